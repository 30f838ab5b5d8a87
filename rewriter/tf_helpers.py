"""NumPy-exact TensorFlow for NumPy calls that take more than one expression to say.

A rewrite calls these by name (`np_hanning(m)`), so its call site reads like the NumPy
it replaces. `rewriter fix` copies each helper a file uses into that file, once, in one
marked block after its imports (see `helper_source.py`). This module is their one
source: users get the text below, and the tests run these functions against NumPy.

Each helper only needs `tf`: no NumPy, no import of this package.
"""
import tensorflow as tf


def np_hanning(m):
    """np.hanning(m): NumPy's symmetric Hann window of m points, in float64."""
    m = tf.cast(tf.maximum(m, 0), tf.float64)
    n = tf.range(m) * 2.0 + (1.0 - m)
    return tf.where(m > 1.0, 0.5 + 0.5 * tf.cos(3.141592653589793 * n / (m - 1.0)), 1.0)


def np_hamming(m):
    """np.hamming(m): NumPy's symmetric Hamming window of m points, in float64."""
    m = tf.cast(tf.maximum(m, 0), tf.float64)
    n = tf.range(m) * 2.0 + (1.0 - m)
    window = 0.54 + 0.46 * tf.cos(3.141592653589793 * n / (m - 1.0))
    return tf.where(m > 1.0, window, 1.0)


def np_blackman(m):
    """np.blackman(m): NumPy's symmetric Blackman window of m points, in float64."""
    m = tf.cast(tf.maximum(m, 0), tf.float64)
    n = tf.range(m) * 2.0 + (1.0 - m)
    d = m - 1.0
    window = (0.42 + 0.5 * tf.cos(3.141592653589793 * n / d)
              + 0.08 * tf.cos(6.283185307179586 * n / d))
    return tf.where(m > 1.0, window, 1.0)  # M == 1: exactly 1.0 (the formula rounds)


def np_bartlett(m):
    """np.bartlett(m): NumPy's symmetric triangular window of m points, in float64."""
    m = tf.cast(tf.maximum(m, 0), tf.float64)
    n = tf.range(m) * 2.0 + (1.0 - m)
    ratio = n / (m - 1.0)
    return tf.where(m > 1.0, tf.where(n <= 0.0, 1.0 + ratio, 1.0 - ratio), 1.0)


def np_kaiser(m, beta):
    """np.kaiser(m, beta): NumPy's Kaiser window of m points, in float64."""
    m = tf.cast(tf.maximum(m, 0), tf.float64)
    if tf.is_tensor(beta):
        beta = tf.cast(beta, tf.float64)
    else:  # a Python float straight to float64 (tf.cast would round it through float32)
        beta = tf.constant(beta, tf.float64)
    half = (m - 1.0) / 2.0
    ratio = (tf.range(m) - half) / half
    window = tf.math.bessel_i0(beta * tf.sqrt(1.0 - tf.square(ratio)))
    return tf.where(m > 1.0, window / tf.math.bessel_i0(beta), 1.0)


def np_interp(x, xp, fp, left=None, right=None):
    """np.interp(x, xp, fp, left, right): NumPy's linear interpolation, in float64."""
    def as_float64(v):  # a Python float straight to float64, not through float32
        return tf.cast(v, tf.float64) if tf.is_tensor(v) else tf.constant(v, tf.float64)

    x, xp, fp = as_float64(x), as_float64(xp), as_float64(fp)
    first_x, last_x, first_y, last_y = xp[0], xp[-1], fp[0], fp[-1]
    left = first_y if left is None else as_float64(left)
    right = last_y if right is None else as_float64(right)
    t = tf.reshape(x, [-1])
    n = tf.size(xp)
    # the knots x0 <= t < x1 around each t (the first or last pair outside them)
    j0 = tf.searchsorted(xp, t, side="right") - 1
    j0 = tf.clip_by_value(j0, 0, tf.maximum(n - 2, 0))
    # each pair's slope once, as NumPy computes it (one knot: a slope never used)
    slopes = (fp[1:] - fp[:-1]) / (xp[1:] - xp[:-1])
    slope = tf.gather(tf.concat([slopes, [0.0]], 0), j0)
    x0, y0 = tf.gather(xp, j0), tf.gather(fp, j0)
    inner = slope * (t - x0) + y0

    def retried():  # NumPy's retry from the right end, where the line gives NaN
        j1 = tf.minimum(j0 + 1, n - 1)
        x1, y1 = tf.gather(xp, j1), tf.gather(fp, j1)
        retry = slope * (t - x1) + y1
        retry = tf.where(tf.math.is_nan(retry) & (y0 == y1), y0, retry)
        return tf.where(tf.math.is_nan(inner), retry, inner)

    def as_is():
        return inner

    y = tf.cond(tf.reduce_any(tf.math.is_nan(inner)), retried, as_is)
    y = tf.where(t == x0, y0, y)  # exact knots give fp exactly
    y = tf.where(t == last_x, last_y, y)
    y = tf.where(t > last_x, right, y)
    y = tf.where(t < first_x, left, y)
    # NaN stays NaN; with one knot, whose comparisons all fail, NumPy gives fp[0]
    y = tf.where(tf.math.is_nan(t), tf.where(n > 1, t, first_y), y)
    return tf.reshape(y, tf.shape(x))


def linear_recurrence(factors, addends, start, steps, in_order, reverse=False):
    """`for` loop rows h[t] = factors[t] * h[t-1] + addends[t] from h[-1] = start,
    stacked over `steps` steps (from the last back with `reverse`); `factors` and
    `addends` broadcast to [steps, *start.shape]. With every factor at most 1 in
    magnitude and the addends and start summing (in magnitude) to well below the
    float's largest value, no product or partial sum over any stretch of steps
    overflows: the steps are then combined pairwise, in blocks of
    32 steps and then across blocks, which differs from the loop's order by
    rounding only. Otherwise, or when the state is large, `in_order()` gives the
    rows step by step."""
    # Combining pairwise makes about log2(steps) passes over every step's state where
    # tf.scan makes one small pass per step: measured on CPU with 1024 steps, it is 3x
    # faster than tf.scan with states of 512 elements, 1.4x at 2048, 3x slower at 8192.
    largest_state = 2048
    block = 32
    start, steps = tf.convert_to_tensor(start), tf.cast(steps, tf.int32)
    state_shape = tf.shape(start)
    shape = tf.concat([[steps], state_shape], 0)
    factors = tf.broadcast_to(tf.convert_to_tensor(factors, start.dtype), shape)
    addends = tf.broadcast_to(tf.convert_to_tensor(addends, start.dtype), shape)
    ones = tf.ones_like(state_shape)  # a block's total broadcasts over the state

    def within_blocks(a, b):
        """Each step's (factor, addend) taken through the steps before it in its block
        (axis 1): rounds taking in 1, 2, 4, ... steps, the first having none before."""
        k = 1
        while k < block:  # a static count: unrolled, every slice of a fixed size
            first, earlier = slice(None, k), slice(None, block - k)
            a_before = tf.concat([tf.ones_like(a[:, first]), a[:, earlier]], 1)
            b_before = tf.concat([tf.zeros_like(b[:, first]), b[:, earlier]], 1)
            a, b = a * a_before, a * b_before + b
            k *= 2
        return a, b

    def across(k, a, b):  # a round over the blocks, whose count is known at run time
        # a gather keeps every shape fixed, which XLA needs (slices of length k do not)
        count = tf.shape(a)[0]
        before = tf.range(count) - k
        none_before = tf.reshape(before < 0, tf.concat([[count], ones], 0))
        before = tf.maximum(before, 0)
        a_before = tf.where(none_before, tf.ones_like(a), tf.gather(a, before))
        b_before = tf.where(none_before, tf.zeros_like(b), tf.gather(b, before))
        return 2 * k, a * a_before, a * b_before + b

    def more_blocks(k, a, b):
        return k < tf.shape(a)[0]

    def pairwise():
        a, b = factors, addends
        if reverse:
            a, b = tf.reverse(a, [0]), tf.reverse(b, [0])
        blocks = (steps + block - 1) // block
        padding = tf.concat([[blocks * block - steps], state_shape], 0)
        a = tf.concat([a, tf.ones(padding, a.dtype)], 0)  # steps that change nothing
        b = tf.concat([b, tf.zeros(padding, b.dtype)], 0)
        in_blocks = tf.concat([[blocks, block], state_shape], 0)
        a, b = within_blocks(tf.reshape(a, in_blocks), tf.reshape(b, in_blocks))
        any_count = tf.TensorShape([None]).concatenate(a.shape[2:])
        invariants = (tf.TensorShape([]), any_count, any_count)
        _, through_a, through_b = tf.while_loop(
            more_blocks, across, (tf.constant(1), a[:, -1], b[:, -1]),
            shape_invariants=invariants)
        # the state each block starts from: the start, then the state after each block
        after = through_a[:-1] * start + through_b[:-1]
        entering = tf.concat([start[None], after], 0)
        states = a * entering[:, None] + b
        states = tf.reshape(states, tf.concat([[blocks * block], state_shape], 0))
        states = states[:steps]
        return tf.reverse(states, [0]) if reverse else states

    bounded = tf.reduce_all(tf.abs(factors) <= 1)
    # with every factor at most 1, any partial result is at most the sum of all addends and
    # the start in magnitude: twice that finite, no partial sum overflows (the loop's own
    # +inf and -inf would otherwise meet as NaN in a group the loop never forms)
    total = tf.reduce_sum(tf.abs(addends), 0) + tf.abs(start)
    finite = tf.reduce_all(tf.math.is_finite(2 * total))
    small = tf.size(start) <= largest_state
    return tf.cond(bounded & finite & small, pairwise, in_order)


def np_sort(a, axis=-1):
    """np.sort(a, axis): sorted along the axis (flattened for None), NaNs last."""
    a = tf.convert_to_tensor(a)
    if axis is None:
        a, axis = tf.reshape(a, [-1]), -1
    if not a.dtype.is_floating:
        if a.dtype.size < 4:  # bools and small ints: TF sorts 32 bits and more
            return tf.cast(tf.sort(tf.cast(a, tf.int32), axis=axis), a.dtype)
        return tf.sort(a, axis=axis)
    # tf.sort scatters NaNs: sort them as +inf, then NaN in the last n_nan places
    is_nan = tf.math.is_nan(a)
    inf, nan = tf.constant(float("inf"), a.dtype), tf.constant(float("nan"), a.dtype)
    ordered = tf.sort(tf.where(is_nan, inf, a), axis=axis)
    n_nan = tf.reduce_sum(tf.cast(is_nan, tf.int32), axis=axis, keepdims=True)
    from_end = tf.cumsum(tf.ones_like(a, tf.int32), axis=axis, reverse=True)
    return tf.where(from_end <= n_nan, nan, ordered)


def sort_key(a):
    """np.sort's order as integers: NaN last, -0.0 equal to 0.0."""
    if not a.dtype.is_floating:  # bools and small ints: TF sorts 32 bits and more
        return tf.cast(a, tf.int32) if a.dtype.size < 4 else a
    wide = a.dtype == tf.float64  # the float's bits, negatives counting down
    x, ints = (a, tf.int64) if wide else (tf.cast(a, tf.float32), tf.int32)
    x = tf.where(tf.math.is_nan(x), tf.constant(float("nan"), x.dtype), x)
    bits = tf.bitcast(x, ints)
    return tf.where(bits < 0, ints.min - bits, bits)  # -0.0 (ints.min) becomes 0


def np_argsort(a, axis=-1):
    """np.argsort(a, axis, stable=True): indices sorting a, NaNs last, as int64."""
    a = tf.convert_to_tensor(a)
    if axis is None or a.shape.rank == 0:  # NumPy argsorts 0-d as 1-d
        a, axis = tf.reshape(a, [-1]), -1
    return tf.cast(tf.argsort(sort_key(a), axis=axis, stable=True), tf.int64)


def np_searchsorted(a, v, side="left"):
    """np.searchsorted(a, v, side): where each v goes in the sorted 1-D a, as int64."""
    a, v = tf.convert_to_tensor(a), tf.convert_to_tensor(v)
    keys = tf.reshape(sort_key(v), [-1])
    found = tf.searchsorted(sort_key(a), keys, side=side, out_type=tf.int64)
    return tf.reshape(found, tf.shape(v))


def np_digitize(x, bins, right=False):
    """np.digitize(x, bins, right): each x's bin (bins rising or falling), as int64."""
    x, bins = tf.convert_to_tensor(x), tf.convert_to_tensor(bins)
    side = "left" if right else "right"
    keys = tf.reshape(sort_key(x), [-1])
    rising = tf.searchsorted(sort_key(bins), keys, side=side, out_type=tf.int64)
    # decreasing bins: counted from the end, in the reversed (increasing) bins
    reversed_bins = sort_key(tf.reverse(bins, [0]))
    falling = tf.size(bins, out_type=tf.int64) - tf.searchsorted(
        reversed_bins, keys, side=side, out_type=tf.int64)
    # NumPy tells the direction in float64 (where int64 2**62 + 1 and 2**62 are equal)
    first, last = tf.cast(bins[:1], tf.float64), tf.cast(bins[-1:], tf.float64)
    found = tf.where(tf.reduce_any(last < first), falling, rising)
    return tf.reshape(found, tf.shape(x))


def np_median(a, axis=None, keepdims=False):
    """np.median(a, axis, keepdims): the middle value(s) of each slice, NaN for NaNs."""
    a = tf.convert_to_tensor(a)
    flat = axis is None
    x = tf.reshape(a, [-1]) if flat else a
    # NumPy averages float16 in float32 and integers in float64
    if a.dtype.is_floating:
        x = tf.cast(x, tf.float32) if a.dtype == tf.float16 else x
    else:
        x = tf.cast(x, tf.float64)
    k = -1 if flat else axis - x.shape.rank if axis >= 0 else axis  # from the end
    keep = keepdims and not flat
    s = x
    if a.dtype.is_floating:  # tf.sort scatters NaNs: they sort as +inf here
        s = tf.where(tf.math.is_nan(x), tf.constant(float("inf"), x.dtype), x)
    s = tf.sort(s, axis=k)
    n = tf.shape(s)[k]
    position = tf.reshape(tf.range(n), [-1] + [1] * (-k - 1))  # along axis k
    middle = tf.logical_or(tf.equal(position, (n - 1) // 2), tf.equal(position, n // 2))
    # the mean of the one or two middle values (none for an empty axis: 0 / 0 = NaN)
    total = tf.reduce_sum(tf.where(middle, s, tf.zeros_like(s)), axis=k, keepdims=keep)
    median = total / tf.cast(tf.minimum(n, 2 - n % 2), s.dtype)
    if a.dtype.is_floating:
        has_nan = tf.reduce_any(tf.math.is_nan(x), axis=k, keepdims=keep)
        median = tf.where(has_nan, tf.constant(float("nan"), median.dtype), median)
    if a.dtype == tf.float16:
        median = tf.cast(median, tf.float16)
    if keepdims and flat:
        median = tf.reshape(median, [1] * a.shape.rank)
    return median


def np_quantile(a, q, axis=None):
    """np.quantile(a, q, axis): NumPy's linear quantiles, NaN for slices with NaNs."""
    a, q = tf.convert_to_tensor(a), tf.constant(q, tf.float64)
    # NumPy's dtype: float input keeps its own for a single q, else float64
    dtype = a.dtype if a.dtype.is_floating and q.shape.rank == 0 else tf.float64
    flat = axis is None
    x = tf.reshape(a, [-1]) if flat else a
    rank = x.shape.rank
    k = -1 if flat else axis - rank if axis >= 0 else axis  # from the end
    s = x
    if a.dtype.is_floating:  # tf.sort scatters NaNs: they sort as +inf here
        s = tf.where(tf.math.is_nan(x), tf.constant(float("inf"), x.dtype), x)
    s = tf.sort(s, axis=k)
    last = tf.cast(tf.shape(s)[k] - 1, tf.float64)
    i = last * q  # the virtual index
    # above the last index NumPy takes the last value and measures gamma from -1
    beyond, floor = i >= last, tf.floor(i)
    lo = tf.cast(tf.where(beyond, last, floor), tf.int32)
    hi = tf.cast(tf.where(beyond, last, floor + 1), tf.int32)
    gamma = i - tf.where(beyond, tf.constant(-1.0, tf.float64), floor)
    if q.shape.rank == 1:  # q runs along axis k
        gamma = tf.reshape(gamma, [-1] + [1] * (-k - 1))
    below, above = tf.gather(s, lo, axis=k), tf.gather(s, hi, axis=k)
    step = above - below  # in the input's dtype, as numpy._lerp

    def as_result(t):
        return t if a.dtype == dtype else tf.cast(t, dtype)

    # numpy._lerp: below + step * gamma below 0.5, above - step * (1 - gamma) from there
    up = as_result(below) + as_result(step) * tf.cast(gamma, dtype)
    down = as_result(above) - as_result(step) * tf.cast(1 - gamma, dtype)
    result = tf.where(gamma >= 0.5, down, up)
    if q.shape.rank == 1 and not flat and k != -rank:
        # NumPy puts the q axis first; tf.gather left it where axis k was
        position = rank + k
        others = [d for d in range(rank) if d != position]
        result = tf.transpose(result, [position] + others)
    if a.dtype.is_floating:
        has_nan = tf.reduce_any(tf.math.is_nan(x), axis=k)
        result = tf.where(has_nan, tf.constant(float("nan"), result.dtype), result)
    return result


def np_unique(ar, return_index=False, return_inverse=False, return_counts=False):
    """np.unique(ar, return_index, return_inverse, return_counts): sorted, NaN once."""
    ar = tf.convert_to_tensor(ar)
    x = tf.reshape(ar, [-1])
    if ar.dtype.is_floating:  # tf.unique keeps each NaN: the other values, then one NaN
        is_nan = tf.math.is_nan(x)
        values = tf.sort(tf.unique(tf.boolean_mask(x, tf.logical_not(is_nan))).y)
        n_nan = tf.cast(tf.reduce_any(is_nan), tf.int32)  # 0 or 1
        nan = tf.constant(float("nan"), ar.dtype)
        values = tf.concat([values, tf.fill([n_nan], nan)], 0)
    elif ar.dtype.size < 4:  # bools and small ints: TF sorts 32 bits and more
        values = tf.cast(tf.sort(tf.unique(tf.cast(x, tf.int32)).y), ar.dtype)
    else:
        values = tf.sort(tf.unique(x).y)
    if not (return_index or return_inverse or return_counts):
        return values
    key = x  # NumPy's order as integers (NaN last, -0.0 == 0.0), as np_argsort
    if not ar.dtype.is_floating and ar.dtype.size < 4:
        key = tf.cast(x, tf.int32)
    elif ar.dtype.is_floating:
        wide = ar.dtype == tf.float64
        key, ints = (x, tf.int64) if wide else (tf.cast(x, tf.float32), tf.int32)
        key = tf.where(tf.math.is_nan(key), tf.constant(float("nan"), key.dtype), key)
        bits = tf.bitcast(key, ints)
        key = tf.where(bits < 0, ints.min - bits, bits)
    # tf.unique_with_counts numbers the values in order of first appearance: sort them
    found = tf.unique_with_counts(key)
    order = tf.argsort(found.y)
    outputs = [values]
    if return_index:
        positions = tf.range(tf.size(x))
        first = tf.math.unsorted_segment_min(positions, found.idx, tf.size(found.y))
        outputs.append(tf.cast(tf.gather(first, order), tf.int64))
    if return_inverse:
        inverse = tf.gather(tf.math.invert_permutation(order), found.idx)
        outputs.append(tf.reshape(tf.cast(inverse, tf.int64), tf.shape(ar)))
    if return_counts:
        outputs.append(tf.cast(tf.gather(found.count, order), tf.int64))
    return tuple(outputs)


def np_max(a, axis=None, keepdims=False):
    """np.max(a, axis, keepdims): the largest value, NaN where a slice holds a NaN."""
    a = tf.convert_to_tensor(a)
    largest = tf.reduce_max(a, axis=axis, keepdims=keepdims)
    if not a.dtype.is_floating:
        return largest
    # compiled with XLA, tf.reduce_max skips NaN
    has_nan = tf.reduce_any(tf.math.is_nan(a), axis=axis, keepdims=keepdims)
    return tf.where(has_nan, tf.constant(float("nan"), a.dtype), largest)


def np_min(a, axis=None, keepdims=False):
    """np.min(a, axis, keepdims): the smallest value, NaN where a slice holds a NaN."""
    a = tf.convert_to_tensor(a)
    smallest = tf.reduce_min(a, axis=axis, keepdims=keepdims)
    if not a.dtype.is_floating:
        return smallest
    # compiled with XLA, tf.reduce_min skips NaN
    has_nan = tf.reduce_any(tf.math.is_nan(a), axis=axis, keepdims=keepdims)
    return tf.where(has_nan, tf.constant(float("nan"), a.dtype), smallest)


def numpy_softmax(z, axis):
    """exp(z - z.max(axis, keepdims=True)) over its sum along axis, as NumPy has it.

    tf.nn.softmax, except in the slices NumPy makes all NaN (one holding a NaN or
    +inf, or all -inf): tf.nn.softmax leaves some elements of those finite, but
    always one NaN, so a slice whose sum is NaN is made all NaN."""
    probabilities = tf.nn.softmax(z, axis=axis)
    total = tf.reduce_sum(probabilities, axis=axis, keepdims=True)
    return tf.where(tf.math.is_nan(total), total, probabilities)


def py_max(values):
    """max(values) of a 1-D tensor, as Python takes it (see python_extreme)."""
    return python_extreme(values, tf.reduce_max)


def py_min(values):
    """min(values) of a 1-D tensor, as Python takes it (see python_extreme)."""
    return python_extreme(values, tf.reduce_min)


def python_extreme(values, reduce):
    """max() or min() of a 1-D tensor as Python takes them: the first element unless a
    later one is strictly larger (smaller), so a NaN first element is the result and a
    later NaN never is; an empty tensor raises, as max() and min() of nothing do."""
    if values.dtype == tf.bool:
        return tf.cast(python_extreme(tf.cast(values, tf.uint8), reduce), tf.bool)
    first = values[0]  # raises on an empty tensor: every result below depends on it
    if not values.dtype.is_floating:
        return reduce(tf.stack([first, reduce(values)]))
    extreme = reduce(tf.where(tf.math.is_nan(values), first, values))
    return tf.where(tf.math.is_nan(first), first, extreme)


def py_round(x):
    """round(x) of a float tensor, as Python: the nearest int64, halves to even;
    NaN and infinity raise, as round() of them does."""
    x = tf.debugging.assert_all_finite(x, "round() of NaN or infinity")
    return tf.cast(tf.round(x), tf.int64)


def autograph_converted(function):
    """tf.autograph.to_graph(function): converted once, when it is defined, so its
    `if`s and loops on tensors are graph ops wherever it is traced, even where the
    caller is not converted (a Keras layer, a Dataset.map built in a tf.function);
    eager calls stay eager. Where AutoGraph cannot read the source (code run from a
    string, a frozen app), the function as written, as before the rewrite."""
    try:
        return tf.autograph.to_graph(function)
    except Exception:  # noqa: BLE001 - AutoGraph's ConversionError is not public
        return function


def numpy_function_output(value):
    """tf.numpy_function(f, inp, [dtype]): the tensor eagerly, [tensor] in a graph."""
    return value if tf.executing_eagerly() else [value]


def scatter_last_writes(out, writes, skipped):
    """`for` loop writes `out[index] = value`, every step's at once, the later
    write winning where two hit one element, as in the loop
    (tf.tensor_scatter_nd_update leaves that one unspecified). `writes`: a step's
    writes in order, each (index: one entry per axis of `out`, value), entries
    tensors over the steps or numbers; `skipped`: bool over the steps, True where
    the loop skips the step. Negative indices count from the end.

    Each write becomes one flat position of `out`, the positions of its index
    entries summed (an entry shared by several writes, as `b, row, col` of
    `out[b, row, col, k]`, is worked out once); the writes are grouped by position
    (tf.unique), a segment max of their loop order per position finds each
    element's last write, and one scatter into the flat `out` writes those. Work
    stays linear in the writes. (A segment max over every element of `out`, no
    tf.unique, measured slower on the YOLO corpus target, 17 elements per write.)
    Writes that all share every entry but the last (as `out[b, row, col, k]` for
    several k) go row by row instead (scatter_last_row_writes). Skipped writes go to
    a spare element after `out` (no boolean mask: under XLA its padded result mixed
    up the writes); an index out of range goes past the spare, which the scatter
    rejects (as the loop's IndexError) on CPU.
    """
    steps = tf.shape(skipped)
    # int32 positions (faster) when they surely fit, one past the spare too
    elements = out.shape.num_elements()
    fits = elements is not None and elements + 2 < 2**31
    position_type = tf.int32 if fits else tf.int64
    shape = tf.shape(out, out_type=position_type)
    axes = len(writes[0][0])
    dims = tf.unstack(shape, num=axes)
    known = {}  # ("entry", axis, entry id) -> (entry from the start, inside); ("position", ...)

    def entry_at(axis, entry):
        key = ("entry", axis, id(entry))
        if key not in known:
            length = dims[axis]
            entry = tf.cast(entry, position_type)
            entry = tf.where(entry < 0, entry + length, entry)
            known[key] = (entry, (entry >= 0) & (entry < length))
        return known[key]

    def position(entries, strides):
        """(flat position, inside) of the first len(entries) axes' entries."""
        key = ("position", id(strides), *(id(e) for e in entries))
        if key not in known:
            at, inside = entry_at(len(entries) - 1, entries[-1])
            at = at * strides[len(entries) - 1]
            if len(entries) > 1:
                first, first_inside = position(entries[:-1], strides)
                at, inside = first + at, first_inside & inside
            known[key] = (at, inside)
        return known[key]

    def over_steps(entry):
        return tf.reshape(tf.broadcast_to(entry, steps), [-1])

    # not tf.logical_not: in a graph, grappler turns logical_not(w <= 0) into w > 0
    taken = tf.reshape(tf.equal(skipped, False), [-1])
    count = len(writes)
    prefix = writes[0][0][:-1]
    # by row: `out`'s shape known and not empty (row 0 takes the skipped steps), and
    # int32 positions in the rows past the last too
    if fits and elements and elements + 2 * out.shape[-1] < 2**31 and prefix and all(
            all(a is b for a, b in zip(index[:-1], prefix)) for index, _ in writes):
        strides = tf.unstack(tf.math.cumprod(shape[:-1], exclusive=True, reverse=True))
        row, inside = position(prefix, strides)
        lasts = [entry_at(axes - 1, index[-1]) for index, _ in writes]
        for _, last_inside in lasts:
            inside = inside & last_inside
        at = tf.stack([over_steps(tf.where(i, a, 0)) for a, i in lasts])
        values = [over_steps(tf.cast(value, out.dtype)) for _, value in writes]
        values = tf.reshape(tf.stack(values, -1), [-1])  # in the loop's order
        return scatter_last_row_writes(out, over_steps(row), over_steps(inside), at,
                                       values, taken)
    strides = tf.unstack(tf.math.cumprod(shape, exclusive=True, reverse=True), num=axes)
    size = tf.reduce_prod(shape)
    # write by write, each over all the steps: stacked on a new first axis, whole blocks
    # copied (stacked on a last axis, in the loop's order, element by element: slower)
    flat = []
    for index, _ in writes:
        at, inside = position(index, strides)
        flat.append(over_steps(tf.where(inside, at, size + 1)))
    flat = tf.stack(flat)
    values = [over_steps(tf.cast(value, out.dtype)) for _, value in writes]
    values = tf.reshape(tf.stack(values), [-1])
    flat = tf.reshape(tf.where(taken, flat, size), [-1])  # skipped: to the spare
    every = tf.size(skipped)
    # the loop's order of each write: its step, then its place among the step's writes
    order = tf.range(every)[None, :] * count + tf.range(count)[:, None]
    order = tf.reshape(order, [-1])
    cells, cell_of_write = tf.unique(flat)
    last = tf.math.unsorted_segment_max(order, cell_of_write, tf.size(cells))
    padded = tf.concat([tf.reshape(out, [-1]), tf.zeros([1], out.dtype)], 0)
    winners = tf.gather(values, last % count * every + last // count)
    result = tf.tensor_scatter_nd_update(padded, cells[:, None], winners)
    return tf.reshape(result[:-1], tf.shape(out))


def scatter_last_row_writes(out, row, inside, at, values, taken):
    """`for` loop writes of scatter_last_writes that share all index entries but the
    last (`out[b, row, col, 0]`, `out[b, row, col, k]`), `out`'s shape known and not
    empty: each step writes into one row of `out` (all axes but the last flattened).
    `row`, `inside`, `taken`: over the steps, its row, whether all its indices are in
    range, whether the loop runs it; `at`: over the writes, then the steps, the entry on
    the last axis; `values`: every write's value in the loop's order.

    The steps are grouped by row (tf.unique over the steps, not over every write), a
    segment max of the loop's order per element of those rows finds each element's last
    write, and one scatter writes whole rows: each written element's last value, the
    others as they were. A skipped step goes to row 0 with an order below every write's
    (it writes nothing); a step with an index out of range to the row past the last,
    which the gather and the scatter reject (as the loop's IndexError) on CPU.
    """
    width = out.shape[-1]
    rows = out.shape.num_elements() // width
    count = at.shape[0]
    every = tf.size(taken)
    row = tf.where(taken, tf.where(inside, row, rows), 0)
    order = tf.range(every)[None, :] * count + tf.range(count)[:, None]
    order = tf.where(taken, order, -1)
    cells, cell_of_step = tf.unique(row)
    element = cell_of_step * width + at
    last = tf.math.unsorted_segment_max(
        tf.reshape(order, [-1]), tf.reshape(element, [-1]), tf.size(cells) * width)
    last = tf.reshape(last, [-1, width])
    by_row = tf.reshape(out, [rows, width])
    kept = tf.gather(by_row, cells)
    updated = tf.where(last >= 0, tf.gather(values, tf.maximum(last, 0)), kept)
    result = tf.tensor_scatter_nd_update(by_row, cells[:, None], updated)
    return tf.reshape(result, tf.shape(out))


def rows_side_by_side(*tensors):
    """`for` loop steps reading `a[i]` and `b[i]`, all steps at once: the tensors
    with axes of length 1 inserted after the first, so that all have the same rank and
    their rows broadcast against each other as each step's rows do."""
    tensors = [tf.convert_to_tensor(t) for t in tensors]
    ranks = [tf.rank(t) if t.shape.rank is None else t.shape.rank for t in tensors]
    rank = ranks[0]
    for other in ranks[1:]:
        rank = tf.maximum(rank, other)
    aligned = []
    for tensor, own in zip(tensors, ranks):
        if isinstance(own, int) and isinstance(rank, int) and own == rank:
            aligned.append(tensor)
            continue
        ones = tf.ones([rank - own], tf.int32)
        shape = tf.shape(tensor)
        aligned.append(tf.reshape(tensor, tf.concat([shape[:1], ones, shape[1:]], 0)))
    return aligned


def kron_matmul(x, a, b, w_shape=None, x_to_w_dtype=False):
    """tf.matmul(x, w) for w = tf.numpy_function(np.kron, [a, b], dtype) of 2-D a
    and b, without building w (ma*mb by na*nb): the last axis of x, read as
    [ma, mb] (x[..., i*mb + k]), is contracted with a over i and b over k, so
    out[..., j*nb + l] = sum x[..., i*mb + k] a[i, j] b[k, l]. Other axes of x are
    rows and batch axes, as tf.matmul takes them.

    The original's checks stay: `w_shape` is what `w.set_shape` declared (eagerly
    set_shape checks w's shape; in a graph it gives the numpy_function's output
    its static shape), and x's last axis must be as long as w: when traced where
    both are known, as tf.matmul checks, and when run (a reshape alone would let a
    wrong length through when x has no rows). `x_to_w_dtype`: x converted to w's
    dtype first, as `x @ w` does when x is not a tensor. A ragged or sparse x
    keeps its own matmul rules: w is built for it.
    """
    a, b = tf.convert_to_tensor(a), tf.convert_to_tensor(b)
    a_shape, b_shape = a.shape.with_rank(2), b.shape.with_rank(2)
    # w's static shape: [ma*mb, na*nb], None where a factor is unknown
    w_static = tf.TensorShape([tf.TensorShape([a_shape[0], b_shape[0]]).num_elements(),
                               tf.TensorShape([a_shape[1], b_shape[1]]).num_elements()])
    if w_shape is not None and tf.executing_eagerly():
        w_static = w_static.merge_with(w_shape)
    elif w_shape is not None:
        w_static = tf.TensorShape(w_shape).with_rank(2)
    ma, na = tf.unstack(tf.shape(a))
    mb, nb = tf.unstack(tf.shape(b))
    if isinstance(x, (tf.RaggedTensor, tf.SparseTensor)):  # their own rules, on w built
        w = a[:, tf.newaxis, :, tf.newaxis] * b[tf.newaxis, :, tf.newaxis, :]
        w = tf.reshape(w, [ma * mb, na * nb])
        w.set_shape(w_static)
        return x @ w if x_to_w_dtype else tf.matmul(x, w)
    x = tf.convert_to_tensor(x, a.dtype if x_to_w_dtype else None)
    inner = x.shape.with_rank_at_least(2)[-1]
    if not tf.executing_eagerly() and None not in (inner, w_static[0]):
        if inner != w_static[0]:
            raise ValueError(f"Dimensions must be equal, but are {inner} and "
                             f"{w_static[0]} for x @ kron(a, b)")
    tf.debugging.assert_rank_at_least(x, 2)
    tf.debugging.assert_equal(tf.shape(x)[-1], ma * mb,
                              "x @ kron(a, b): x's last axis is not as long as w")
    rows = tf.shape(x)[:-1]

    def contracted():
        product = tf.einsum("...ik,ij,kl->...jl",
                            tf.reshape(x, tf.concat([rows, [ma, mb]], 0)), a, b)
        return tf.reshape(product, tf.concat([rows, [na * nb]], 0))

    def built():
        w = a[:, tf.newaxis, :, tf.newaxis] * b[tf.newaxis, :, tf.newaxis, :]
        return tf.matmul(x, tf.reshape(w, [ma * mb, na * nb]))

    if a.dtype.is_floating or a.dtype.is_complex:
        # an inf in a or b times a 0 in the other is NaN in w, which the sum over x's
        # products keeps; the contraction multiplies it by x's sum first (inf, not NaN)
        parts = [tf.math.real(a), tf.math.imag(a), tf.math.real(b), tf.math.imag(b)] \
            if a.dtype.is_complex else [a, b]
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(p)) for p in parts])
        out = tf.cond(finite, contracted, built)
    else:
        out = contracted()
    out.set_shape(x.shape[:-1].concatenate(w_static[1:]))
    return out

