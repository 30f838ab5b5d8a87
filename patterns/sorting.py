"""Sorting, searching, counting and index functions: sort/argsort, searchsorted, digitize,
unique, take, nonzero, bincount, histogram, interp, set operations.

The traps bridged here:
- NumPy sorts NaN to the end; `tf.sort`/`tf.argsort` (built on `top_k`) scatter NaNs. Floats
  are sorted on an integer key with NumPy's total order (NaN last, -0.0 equal to 0.0):
  the float's bits, with negative floats' bits flipped (`tf.int64.min - bits`).
- `np.unique` is sorted; `tf.unique` keeps first-appearance order and treats NaNs as distinct.
- `np.searchsorted`/`np.digitize` compare in the common dtype of `np.asarray` of both
  arguments (a Python float is float64 here, not weak), and digitize reverses its meaning for
  decreasing bins.
- Negative indices wrap in NumPy's take; `tf.gather` rejects them.
- `tf.histogram_fixed_width` clamps out-of-range values into the edge bins; NumPy drops them
  and closes only the last bin on the right.

What takes more than one expression (float sort keys, interp, digitize, unique) is a call to a
helper named after the NumPy function (`np_argsort(scores)`, see `rewriter/tf_helpers.py`).
"""
import numpy as np

from rewriter import helper_source
from rewriter.facts import Kind, array, tf_name
from rewriter.pattern import ALL, FLOATS, NUMERIC, Batch, Cast, Domain, Pattern, Values

FAMILY_CODE = "NPO"

_REALS = NUMERIC + ("bool",)


# -- helpers -------------------------------------------------------------------------------

def _none(call, name) -> bool:
    """Whether the argument is absent or the literal None."""
    return not call.given(name) or (call.fact(name).known and call.fact(name).value is None)


def _nd_dtype(fact) -> np.dtype:
    """The dtype `np.asarray` gives the argument (Python numbers are not weak here)."""
    if fact.kind is Kind.ARRAY:
        return fact.dtype
    if fact.kind is Kind.SCALAR:
        if fact.known:
            return np.asarray(fact.value).dtype
        return np.asarray(fact.pytype(1)).dtype
    if fact.kind is Kind.TUPLE and fact.items:
        return np.result_type(*[_nd_dtype(i) for i in fact.items])
    if fact.kind is Kind.TUPLE:
        return np.dtype("float64")
    raise LookupError


def _dtype_of(call, name) -> np.dtype:
    try:
        dtype = _nd_dtype(call.fact(name))
    except LookupError:
        call.refuse(f"cannot tell the dtype of `{name}`")
    if dtype is None:
        call.refuse(f"cannot tell the dtype of `{name}`")
    return dtype


def _as_tensor(call, name, dtype) -> str:
    """The argument as a tensor of `dtype`, whether an array, a literal or a list literal."""
    value = call.args[name]
    fact = value.fact
    dtype = np.dtype(dtype)
    if fact.kind is Kind.ARRAY or (fact.kind is Kind.SCALAR and fact.tensor):
        return call.lowering.cast(value, dtype).text
    if fact.kind is Kind.SCALAR and fact.known and fact.pytype is bool and dtype.kind != "b":
        return f"tf.constant({int(fact.value)}, {tf_name(dtype)})"
    if fact.kind is Kind.SCALAR or (fact.kind is Kind.TUPLE and value.items is not None and all(
            i.fact.kind is Kind.SCALAR and not i.fact.tensor for i in value.items)):
        if dtype.kind == "b":
            return f"tf.cast(tf.constant({value.text}), tf.bool)"
        if dtype.kind in "iu" and np.asarray(fact.value if fact.kind is Kind.SCALAR else
                                             [i.fact.value for i in value.items]).dtype.kind == "f":
            call.refuse(f"`{name}` holds floats where integers are needed")
        return f"tf.constant({value.text}, {tf_name(dtype)})"
    if fact.kind is Kind.TUPLE and value.items is not None:
        items = [call.lowering.cast(i, dtype).text if (i.fact.kind is Kind.ARRAY or i.fact.tensor)
                 else f"tf.constant({i.text}, {tf_name(dtype)})" for i in value.items]
        return f"tf.stack([{', '.join(items)}])"
    call.refuse(f"`{name}` is not an array")


def _bool(text, dtype) -> str:
    """Truth value of each element, as NumPy's nonzero sees it."""
    return text if np.dtype(dtype).kind == "b" else f"tf.cast({text}, tf.bool)"


def _flat(text) -> str:
    return f"tf.reshape({text}, [-1])"


def _key(text, dtype) -> str:
    """The values of `text` (bools or integers) as TF's sort kernels take them: small ints
    widened. Floats are sorted on an integer key by the helpers (np_argsort...)."""
    dtype = np.dtype(dtype)
    assert dtype.kind != "f", "floats are sorted by the helpers"
    if dtype.kind == "b" or dtype.itemsize < 4:
        return f"tf.cast({text}, tf.int32)"
    return text


def _axis(call, name="axis", default="-1"):
    """(array text, axis text): axis=None sorts the flattened array."""
    a = call.text("a")
    if call.given(name) and call.fact(name).known and call.fact(name).value is None:
        return _flat(a), "-1"
    if call.given(name):
        call.const(name)
        return a, call.text(name)
    return a, default


def _axis_keyword(call) -> tuple:
    """The axis argument of a helper call: none for the default -1, `axis=None` to flatten."""
    if call.given("axis") and call.fact("axis").known and call.fact("axis").value is None:
        return ("axis=None",)
    if call.given("axis"):
        call.const("axis")
        return (f"axis={call.text('axis')}",)
    return ()


_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable")


def _check_kind(call):
    kind = call.const("kind", None)
    if kind not in _KINDS:
        call.refuse(f"kind={kind!r} is not a NumPy sort kind")
    return kind


# -- sort, argsort -------------------------------------------------------------------------

def _sort(call):
    """tf.sort; floats go to np_sort, which moves NaNs to the end (TF's top_k-based sort
    scatters them)."""
    _check_kind(call)
    call.const("stable", None)
    dtype = call.result.dtype
    if dtype.kind == "f":
        return helper_source.call("np_sort", call.text("a"), *_axis_keyword(call))
    a, axis = _axis(call)
    if dtype.kind == "b" or dtype.itemsize < 4:
        return f"tf.cast(tf.sort(tf.cast({a}, tf.int32), axis={axis}), {tf_name(dtype)})"
    return f"tf.sort({a}, axis={axis})"


def _argsort(call):
    """tf.argsort(stable=True) on NumPy's sort order (NaN last), as int64. NumPy's default
    kind gives no order among ties; the stable order is one of the orders it may give."""
    _check_kind(call)
    call.const("stable", None)
    if np.dtype(call.fact("a").dtype).kind == "f":  # the sort key takes more than one step
        flat = ("axis=None",) if call.fact("a").rank == 0 else ()
        return helper_source.call("np_argsort", call.text("a"), *(flat or _axis_keyword(call)))
    a, axis = _axis(call)
    if call.fact("a").rank == 0:  # NumPy argsorts a 0-d array as a 1-d one: [0]
        a, axis = _flat(call.text("a")), "-1"
    return f"tf.cast(tf.argsort({_key(a, call.fact('a').dtype)}, axis={axis}, stable=True), tf.int64)"


# -- searching -----------------------------------------------------------------------------

def _search(sorted_key, values_key, values_text, side) -> str:
    return (f"tf.reshape(tf.searchsorted({sorted_key}, {_flat(values_key)}, side='{side}', "
            f"out_type=tf.int64), tf.shape({values_text}))")


def _searchsorted(call):
    """tf.searchsorted in the common dtype of np.asarray of both arguments, on the sort key
    (NaN last), for values of any shape."""
    side = call.const("side", "left")
    if side not in ("left", "right"):
        call.refuse(f"side={side!r}")
    if call.fact("a").rank != 1:
        call.refuse("the sorted array must be 1-D")
    dtype = np.result_type(_dtype_of(call, "a"), _dtype_of(call, "v"))
    a, v = _as_tensor(call, "a", dtype), _as_tensor(call, "v", dtype)
    if dtype.kind == "f":  # the sort key takes more than one step
        return helper_source.call("np_searchsorted", a, v, *([f"side='{side}'"] if side == "right" else []))
    return _search(_key(a, dtype), _key(v, dtype), v, side)


def _digitize(call):
    """searchsorted with the opposite side; decreasing bins count from the end, as NumPy.
    Increasing integer bins written out are one searchsorted; the rest goes to np_digitize,
    which finds the direction of the bins as it runs."""
    right = call.const("right", False)
    side = "left" if right else "right"
    dtype = np.result_type(_dtype_of(call, "x"), _dtype_of(call, "bins"))
    if dtype.kind not in "biuf":
        call.refuse(f"{dtype} input")
    x = _as_tensor(call, "x", dtype)
    bins_fact = call.fact("bins")
    if bins_fact.kind is Kind.TUPLE:
        values = call.const("bins")
        if not all(isinstance(v, (int, float, bool)) for v in values):
            call.refuse("bins must be numbers")
        diffs = np.diff(np.asarray(values, dtype=dtype).astype(np.float64)) if len(values) > 1 else np.array([])
        if np.all(diffs >= 0):
            decreasing = False
        elif np.all(diffs <= 0):
            decreasing = True
        else:
            call.refuse("bins must be monotonic")
        bins = _as_tensor(call, "bins", dtype)
        if not decreasing and dtype.kind != "f":
            return _search(_key(bins, dtype), _key(x, dtype), x, side)
    elif bins_fact.kind is not Kind.ARRAY or bins_fact.rank != 1:
        call.refuse("bins must be a 1-D array")
    else:
        bins = _as_tensor(call, "bins", dtype)
    return helper_source.call("np_digitize", x, bins, *(["right=True"] if right else []))


# -- unique and set operations -------------------------------------------------------------

def _unique_values(x, dtype) -> str:
    """Sorted unique values of a flat tensor `x`; NaNs collapse into one NaN at the end
    (np_unique, for floats)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return helper_source.call("np_unique", x)
    if dtype.kind == "b" or dtype.itemsize < 4:
        return f"tf.cast(tf.sort(tf.unique(tf.cast({x}, tf.int32)).y), {tf_name(dtype)})"
    return f"tf.sort(tf.unique({x}).y)"


def _isin_text(element, test) -> str:
    return f"tf.reduce_any(tf.equal(tf.expand_dims({element}, -1), {_flat(test)}), axis=-1)"


_UNIQUE_OUTPUTS = ("return_index", "return_inverse", "return_counts")


def _unique(call):
    """Sorted unique values (tf.unique is in first-appearance order). Floats (NaNs collapse
    into one) and the optional outputs (tf.unique_with_counts over NumPy's sort key,
    reordered by the sorted values) go to np_unique."""
    if call.fact("ar").kind is not Kind.ARRAY:
        call.refuse("needs an array")
    dtype = call.fact("ar").dtype
    want = [n for n in _UNIQUE_OUTPUTS if call.const(n, False)]
    if not want and np.dtype(dtype).kind != "f":
        return _unique_values(_flat(call.text("ar")), dtype)
    return helper_source.call("np_unique", call.text("ar"), *(f"{n}=True" for n in want))


def _common(call, *names):
    dtype = np.result_type(*[_dtype_of(call, n) for n in names])
    if dtype.kind not in "biuf":
        call.refuse(f"{dtype} input")
    return dtype, [_as_tensor(call, n, dtype) for n in names]


def _isin(call):
    """Every element against every test element (NumPy's own small-input method), in the
    common dtype; NaN is in nothing, as in NumPy."""
    call.const("assume_unique", False)
    call.const("kind", None)
    _, (element, test) = _common(call, "element", "test_elements")
    found = _isin_text(element, test)
    return f"tf.logical_not({found})" if call.const("invert", False) else found


def _union1d(call):
    """Sorted unique values of both flattened arrays together."""
    dtype, (a, b) = _common(call, "ar1", "ar2")
    return _unique_values(f"tf.concat([{_flat(a)}, {_flat(b)}], 0)", call.result.dtype)


def _intersect1d(call):
    """Sorted unique values of ar1 that occur in ar2 (NaN never matches, as in NumPy)."""
    dtype, (a, b) = _common(call, "ar1", "ar2")
    values = _unique_values(_flat(a), dtype)
    return f"tf.boolean_mask({values}, {_isin_text(values, b)})"


def _setdiff1d(call):
    """Sorted unique values of ar1 that do not occur in ar2, in ar1's dtype."""
    dtype = np.result_type(_dtype_of(call, "ar1"), _dtype_of(call, "ar2"))
    own = _dtype_of(call, "ar1")
    values = _unique_values(_flat(_as_tensor(call, "ar1", own)), own)
    compare = values if own == dtype else f"tf.cast({values}, {tf_name(dtype)})"
    return f"tf.boolean_mask({values}, tf.logical_not({_isin_text(compare, _as_tensor(call, 'ar2', dtype))}))"


# -- taking and selecting ------------------------------------------------------------------

def _indices(call, name, size):
    """Index tensor (int64 unless already int32/int64) with NumPy's wrap of negatives."""
    fact = call.fact(name)
    if fact.kind is Kind.ARRAY:
        if fact.dtype.kind not in "iu":
            call.refuse("indices must be integers")
        text = call.text(name)
        signed = fact.dtype.kind == "i"
        if fact.dtype not in (np.int32, np.int64):
            text = f"tf.cast({text}, tf.int64)"
        call.index_dtype = tf_name(fact.dtype) if fact.dtype in (np.int32, np.int64) else "tf.int64"
    else:
        dtype = _dtype_of(call, name)
        if dtype.kind not in "iu":
            call.refuse("indices must be integers")
        text = _as_tensor(call, name, np.int64)
        call.index_dtype = "tf.int64"
        values = np.asarray(call.const(name))
        signed = bool((values < 0).any())
    return text, signed


def _take(call):
    """tf.gather with NumPy's index modes: negatives wrap ('raise'), 'wrap' is a floor
    modulo, 'clip' clamps (negatives to 0)."""
    mode = call.const("mode", "raise")
    if _none(call, "axis"):
        a, axis = _flat(call.text("a")), "0"
    else:
        call.const("axis")
        a, axis = call.text("a"), call.text("axis")
    indices, signed = _indices(call, "indices", None)
    size = f"tf.shape({a}, out_type={call.index_dtype})[{axis}]"
    if mode == "raise":
        if signed:
            indices = f"tf.where({indices} < 0, {indices} + {size}, {indices})"
    elif mode == "wrap":
        indices = f"tf.math.floormod({indices}, {size})"
    elif mode == "clip":
        indices = f"tf.clip_by_value({indices}, 0, {size} - 1)"
    else:
        call.refuse(f"mode={mode!r}")
    return f"tf.gather({a}, {indices}, axis={axis})" if axis != "0" else f"tf.gather({a}, {indices})"


def _take_along_axis(call):
    """tf.gather with batch_dims over the leading axes (the axis moved last and back)."""
    if _none(call, "axis") and call.given("axis"):
        arr, rank, axis = _flat(call.text("arr")), 1, 0
    else:
        rank = call.fact("arr").rank
        if rank is None:
            call.refuse("needs the rank of the array")
        axis = call.const("axis", -1)
        if not isinstance(axis, int) or not -rank <= axis < rank:
            call.refuse("axis out of range")
        axis %= rank
        arr = call.text("arr")
    if call.fact("indices").kind is not Kind.ARRAY or call.fact("indices").rank != rank:
        call.refuse("indices must be an array of the same rank")
    indices, signed = _indices(call, "indices", None)
    if signed:
        size = f"tf.shape({arr}, out_type={call.index_dtype})[{axis}]"
        indices = f"tf.where({indices} < 0, {indices} + {size}, {indices})"
    if axis == rank - 1:
        return f"tf.gather({arr}, {indices}, batch_dims={rank - 1})"
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return (f"tf.transpose(tf.gather(tf.transpose({arr}, {perm}), tf.transpose({indices}, {perm}), "
            f"batch_dims={rank - 1}), {perm})")


def _argwhere(call):
    """tf.where(a) (int64 row indices); a 0-d array gives one or no row of width 0."""
    a = _bool(call.text("a"), call.fact("a").dtype)
    if call.fact("a").rank == 0:
        return f"tf.where(tf.reshape({a}, [1]))[:, :0]"
    return f"tf.where({a})"


def _nonzero(call):
    """One int64 index vector per dimension, from tf.where."""
    name = "a" if "a" in call.args else "self"
    rank = call.fact(name).rank
    if not rank:
        call.refuse("needs an array of known rank of at least one dimension")
    where = f"tf.where({_bool(call.text(name), call.fact(name).dtype)})"
    return f"tuple(tf.unstack({where}, num={rank}, axis=1))"


def _flatnonzero(call):
    """Indices of the non-zero elements of the flattened array."""
    return f"tf.reshape(tf.where({_flat(_bool(call.text('a'), call.fact('a').dtype))}), [-1])"


def _extract(call):
    """Elements of the flattened array where the flattened condition is non-zero."""
    cond = _flat(_bool(call.text("condition"), call.fact("condition").dtype))
    return f"tf.gather({_flat(call.text('arr'))}, tf.reshape(tf.where({cond}), [-1]))"


def _compress(call):
    """tf.gather of the positions where the 1-D condition holds (a short condition only
    covers the first entries, as in NumPy)."""
    name = "a" if "a" in call.args else "self"
    cond_fact = call.fact("condition")
    if cond_fact.kind is Kind.ARRAY:
        if cond_fact.rank != 1:
            call.refuse("condition must be 1-D")
        cond = _bool(call.text("condition"), cond_fact.dtype)
    else:
        cond = _as_tensor(call, "condition", np.bool_)
    positions = f"tf.reshape(tf.where({cond}), [-1])"
    if _none(call, "axis"):
        return f"tf.gather({_flat(call.text(name))}, {positions})"
    call.const("axis")
    return f"tf.gather({call.text(name)}, {positions}, axis={call.text('axis')})"


def _select(call):
    """Nested tf.where: the first condition that holds picks its choice, else `default`."""
    conds, choices = call.args["condlist"], call.args["choicelist"]
    if conds.items is None or choices.items is None or len(conds.items) != len(choices.items):
        call.refuse("condlist and choicelist must be lists of the same length")
    dtype = call.result.dtype
    for c in conds.items:
        if c.fact.kind is not Kind.ARRAY or c.fact.dtype.kind != "b":
            call.refuse("conditions must be boolean arrays")
    lw = call.lowering

    def tensor(low):
        if low.fact.kind is Kind.ARRAY or low.fact.tensor:
            return lw.cast(low, dtype).text
        return f"tf.constant({low.text}, {tf_name(dtype)})"

    out = tensor(call.args["default"]) if call.given("default") else f"tf.constant(0, {tf_name(dtype)})"
    for cond, choice in reversed(list(zip(conds.items, choices.items))):
        out = f"tf.where({cond.text}, {tensor(choice)}, {out})"
    return out


# -- index arithmetic ----------------------------------------------------------------------

def _shape_length(call, name):
    fact = call.fact(name)
    if fact.kind is Kind.TUPLE:
        return len(fact.items)
    if fact.kind is Kind.SCALAR:
        return 1
    if fact.kind is Kind.SHAPE and fact.rank is not None:
        return fact.rank
    call.refuse(f"the length of `{name}` is unknown")


def _dims(call, name):
    fact = call.fact(name)
    if fact.kind is Kind.SCALAR:
        return f"tf.cast([{call.text(name)}], tf.int64)"
    if fact.kind is Kind.TUPLE and all(i.kind is Kind.SCALAR and not i.tensor for i in fact.items):
        return f"tf.constant({call.text(name)}, tf.int64)"
    return f"tf.cast({call.text(name)}, tf.int64)"


def _unravel_index(call):
    """tf.unravel_index over the flattened indices, split into one array per dimension."""
    count = _shape_length(call, "shape")
    fact = call.fact("indices")
    if fact.kind is Kind.ARRAY:
        if fact.dtype.kind not in "iu":
            call.refuse("indices must be integers")
        indices = call.lowering.cast(call.args["indices"], np.int64).text
    else:
        indices = _as_tensor(call, "indices", np.int64)
    # tf.unravel_index rejects an empty index vector: one index 0 is appended and dropped.
    found = f"tf.unravel_index(tf.concat([{_flat(indices)}, [0]], 0), {_dims(call, 'shape')})[:, :-1]"
    return (f"tuple(tf.unstack(tf.reshape({found}, tf.concat([[{count}], tf.shape({indices})], 0)), "
            f"num={count}))")


def _ravel_multi_index(call):
    """Sum of each index times its row-major stride, in int64."""
    dims = call.const("dims")
    if isinstance(dims, int):
        dims = (dims,)
    items = call.args["multi_index"].items
    if items is None or len(items) != len(dims):
        call.refuse("multi_index must be a tuple with one entry per dimension")
    strides = [int(np.prod(dims[i + 1:], dtype=np.int64)) for i in range(len(dims))]
    terms = []
    for item, stride in zip(items, strides):
        if item.fact.kind is Kind.ARRAY and item.fact.dtype.kind not in "iu":
            call.refuse("indices must be integers")
        if item.fact.kind is Kind.ARRAY or item.fact.tensor:
            text = call.lowering.cast(item, np.int64).text
        else:
            text = f"tf.constant({item.text}, tf.int64)"
        terms.append(text if stride == 1 else f"{text} * {stride}")
    return " + ".join(terms)


def _triangle_indices(upper):
    def lower(call):
        n = call.text("n")
        m = n if _none(call, "m") else call.text("m")
        k = call.text("k") if call.given("k") else "0"
        rows, cols = f"tf.range({n})[:, tf.newaxis]", f"tf.range({m})"
        mask = f"{cols} >= {rows} + {k}" if upper else f"{cols} <= {rows} + {k}"
        return f"tuple(tf.unstack(tf.where({mask}), num=2, axis=1))"

    lower.__doc__ = f"row-major positions of the {'upper' if upper else 'lower'} triangle, via tf.where"
    return lower


def _diag_indices(call):
    """ndim copies of arange(n) as int64."""
    ndim = call.const("ndim", 2)
    index = f"tf.range({call.text('n')}, dtype=tf.int64)"
    return f"({', '.join([index] * ndim)},)"


# -- counting ------------------------------------------------------------------------------

def _bincount(call):
    """tf.math.bincount with NumPy's int64 counts. (weights= is refused: NumPy's result is
    float64, except int64 for an empty x, which no static dtype can follow.)"""
    x = call.text("x")
    if call.fact("x").dtype not in (np.int32, np.int64):
        x = f"tf.cast({x}, tf.int64)"
    parts = [x]
    if call.given("minlength"):
        parts.append(f"minlength={call.text('minlength')}")
    parts.append("dtype=tf.int64")
    return f"tf.math.bincount({', '.join(parts)})"


def _histogram_edges(call):
    """(flat values as float64, edges text, bins) for a fixed number of equal bins."""
    bins = call.const("bins", 10)
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 1:
        call.refuse("only a positive number of equal-width bins is rewritten")
    dtype = call.fact("a").dtype
    a = _flat(call.cast("a", np.float64) if dtype != np.float64 else call.text("a"))
    if _none(call, "range"):
        # The data's own extremes would appear many times over in one expression: refused.
        call.refuse("only a constant range= is rewritten")
    lo, hi = call.const("range")
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
        call.refuse("range must be finite and increasing")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    step = (hi - lo) / bins
    if step == 0:
        call.refuse("range too narrow")
    edges = f"tf.concat([tf.range({bins}, dtype=tf.float64) * {step!r} + {lo!r}, [{hi!r}]], 0)"
    return a, edges, bins


def _histogram(call):
    """(counts, edges): NumPy drops values outside the range and closes only the last bin on
    the right (tf.histogram_fixed_width clamps outside values into the edge bins), so each
    value's bin is found on the edges and counted with tf.math.bincount, weighted 0 outside
    the range (not masked out: a mask of varying length fails under tf.vectorized_map)."""
    if call.const("density", None):
        call.refuse("density=True is not rewritten")
    a, edges, bins = _histogram_edges(call)
    inside = f"tf.cast(({a} >= {edges}[0]) & ({a} <= {edges}[-1]), tf.int64)"
    index = f"tf.clip_by_value(tf.searchsorted({edges}, {a}, side='right') - 1, 0, {bins - 1})"
    counts = f"tf.math.bincount({index}, weights={inside}, minlength={bins}, maxlength={bins})"
    return f"({counts}, {edges})"


def _histogram_bin_edges(call):
    """NumPy's equal-width edges: i * step + first, the last edge exactly `last`."""
    return _histogram_edges(call)[1]


def _interp(call):
    """NumPy's interpolation step by step in float64 (np_interp): the segment is found with
    tf.searchsorted; exact knots give fp exactly, outside the range left/right (fp[0]/fp[-1]),
    and a NaN from the slope retries from the right end as NumPy does."""
    for name in ("xp", "fp"):
        fact = call.fact(name)
        if fact.kind is Kind.ARRAY and fact.rank != 1:
            call.refuse(f"{name} must be 1-D")
    for name in ("x", "xp", "fp"):
        if _dtype_of(call, name).kind not in "biuf":
            call.refuse(f"{name} must be real")
    arguments = [_float64_argument(call, n) for n in ("x", "xp", "fp")]
    for name in ("left", "right"):
        if not _none(call, name):
            arguments.append(f"{name}={_float64_argument(call, name)}")
    return helper_source.call("np_interp", *arguments)


def _float64_argument(call, name) -> str:
    """An argument np_interp brings to float64 itself (a tensor, an array, Python numbers),
    as written; else (a list holding tensors) as a float64 tensor."""
    value = call.args[name]
    fact = value.fact
    if fact.kind in (Kind.ARRAY, Kind.SCALAR) or (fact.kind is Kind.TUPLE and value.items is not None and all(
            i.fact.kind is Kind.SCALAR and not i.fact.tensor for i in value.items)):
        return value.text
    return _as_tensor(call, name, np.float64)


def _is_none(fact) -> bool:
    return fact is None or (fact.known and fact.value is None)


def _rank_of(fact):
    if fact.kind is Kind.ARRAY:
        return fact.rank
    if fact.kind is Kind.SCALAR:
        return 0
    if fact.kind is Kind.TUPLE:
        inner = {_rank_of(i) for i in fact.items}
        return 1 + inner.pop() if len(inner) == 1 and None not in inner else None
    return None


def _add(*ranks):
    return None if None in ranks else sum(ranks)


# The stand-in arrays the engine runs NumPy on hold values up to 2 on axes of length 2, which
# are out of range as indices: these results are stated instead.
def _take_result(facts):
    a, indices = facts["a" if "a" in facts else "self"], facts["indices"]
    if _is_none(facts.get("axis")):
        return array(a.dtype, _rank_of(indices))
    return array(a.dtype, _add(a.rank, -1, _rank_of(indices)))


def _take_along_result(facts):
    arr = facts["arr"]
    return array(arr.dtype, 1 if _is_none(facts.get("axis", arr)) else arr.rank)


def _compress_result(facts):
    a = facts["a" if "a" in facts else "self"]
    return array(a.dtype, 1 if _is_none(facts.get("axis")) else a.rank)


_SORTED = Domain(dtypes=_REALS, ranks=(1, 2, 3), grad=False)
_SEARCH = Domain(dtypes=_REALS, ranks=(1,), grad=False)
_INDEX = Domain(values=Values.INDEX, dtypes=("int32", "int64", "uint8"), ranks=(1, 2), grad=False)

PATTERNS = (
    Pattern("numpy.sort", examples=("np.sort(a)", "np.sort(a, axis=0, kind='stable')", "np.sort(a, axis=None)"),
            lower=_sort, handles=("a", "axis", "kind", "stable"), cast=Cast.NONE, batch=Batch.AXIS,
            domain=_SORTED, note="NaNs sort to the end, as in NumPy (tf.sort scatters them)"),
    Pattern("numpy.argsort", examples=("np.argsort(a, kind='stable')", "np.argsort(a, axis=0, stable=True)",
                                       "np.argsort(a, axis=None, kind='mergesort')", "a.all().argsort()"),
            lower=_argsort, handles=("a", "axis", "kind", "stable"), cast=Cast.NONE, batch=Batch.AXIS,
            domain=_SORTED, note="stable order with NaNs last; NumPy's default kind leaves ties in "
                                 "no guaranteed order, and the stable one is among those it may give"),
    Pattern("numpy.searchsorted", examples=("np.searchsorted(np.sort(a), b)", "np.searchsorted(np.sort(a), b, side='right')",
                                            "np.searchsorted(np.sort(a), 2)"),
            lower=_searchsorted, handles=("a", "v", "side"), arrays=("a", "v"), cast=Cast.NONE,
            domain=Domain(dtypes=_REALS, ranks=(1,), grad=False, broadcast=False),
            note="compares in the common dtype of np.asarray of both (a Python float is float64 here)"),
    Pattern("numpy.digitize", examples=("np.digitize(a, [-1.0, 0.0, 2.5])", "np.digitize(a, [3, 1, 0], right=True)",
                                        "np.digitize(a, np.sort(b))"),
            lower=_digitize, handles=("x", "bins", "right"), arrays=("x", "bins"), cast=Cast.NONE,
            domain=Domain(dtypes=NUMERIC, ranks=(1,), grad=False, broadcast=False),
            note="right=False searches on the right side; decreasing bins count from the end"),
    Pattern("numpy.unique", examples=("np.unique(a)", "np.unique(a, return_counts=True)",
                                      "np.unique(a, return_index=True, return_inverse=True)"),
            lower=_unique, handles=("ar", "return_index", "return_inverse", "return_counts"), cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(dtypes=_REALS, ranks=(1, 2), grad=False),
            note="sorted, NaNs collapsed at the end (tf.unique keeps first-appearance order)"),
    Pattern("numpy.take", examples=("np.take(a, [0, -1, 2])", "np.take(a, [1, -2], axis=-1)",
                                    "np.take(a, [7, -9], mode='wrap')"),
            lower=_take, handles=("a", "indices", "axis", "mode"), cast=Cast.NONE, result=_take_result, batch=Batch.NONE,
            domain=Domain(dtypes=ALL, ranks=(1, 2), grad=False),
            note="negative indices wrap, as in NumPy (tf.gather rejects them)"),
    Pattern("numpy.take_along_axis", examples=("np.take_along_axis(a, np.argsort(a, kind='stable'), axis=-1)",
                                               "np.take_along_axis(a, np.argsort(-a, axis=0, kind='stable'), axis=0)"),
            lower=_take_along_axis, handles=("arr", "indices", "axis"), arrays=("arr",), cast=Cast.NONE,
            result=_take_along_result,
            batch=Batch.NONE, domain=Domain(dtypes=("float32", "float64", "int32", "int64"), ranks=(1, 2, 3), grad=False),
            note="negative indices wrap; size-1 axes of indices do not broadcast (TF raises)"),
    Pattern("numpy.argwhere", examples=("np.argwhere(a)",), lower=_argwhere, handles=("a",),
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=_REALS, grad=False)),
    Pattern("numpy.nonzero", examples=("np.nonzero(a)",), lower=_nonzero, handles=("a",),
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=_REALS, ranks=(1, 2, 3), grad=False)),
    Pattern("numpy.flatnonzero", examples=("np.flatnonzero(a)",), lower=_flatnonzero, handles=("a",),
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=_REALS, grad=False)),
    Pattern("numpy.extract", examples=("np.extract(b, a)",), lower=_extract,
            handles=("condition", "arr"), arrays=("condition", "arr"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=_REALS, grad=False, broadcast=False)),
    Pattern("numpy.compress", examples=("np.compress([True, False, True], a, axis=0)", "np.compress([1, 0, 1, 1], a, axis=-1)",
                                        "np.compress([0, 1], a)"),
            lower=_compress, handles=("condition", "a", "axis"), arrays=("a",), cast=Cast.NONE, result=_compress_result, batch=Batch.NONE,
            domain=Domain(dtypes=ALL, ranks=(1, 2), grad=False)),
    Pattern("numpy.select", examples=("np.select([a > 1, a < -1], [a, -a], 0)", "np.select([a > 0], [b], default=-1)"),
            lower=_select, handles=("condlist", "choicelist", "default"), arrays=("choicelist", "default"),
            cast=Cast.NONE, domain=Domain(dtypes=FLOATS + ("int8", "int32", "int64"), grad=False),
            note="the first condition that holds wins, as in NumPy"),
    Pattern("numpy.isin", examples=("np.isin(a, b)", "np.isin(a, [0, 1, 2.5], invert=True)"), lower=_isin,
            handles=("element", "test_elements", "invert", "assume_unique", "kind"),
            arrays=("element", "test_elements"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=_REALS, ranks=(0, 1, 2), grad=False),
            note="compares every pair in the common dtype (memory grows as the product of sizes)"),
    Pattern("numpy.union1d", examples=("np.union1d(a, b)",), lower=_union1d, handles=("ar1", "ar2"),
            arrays=("ar1", "ar2"), cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=_REALS, ranks=(1, 2), grad=False)),
    Pattern("numpy.intersect1d", examples=("np.intersect1d(a, b)",), lower=_intersect1d, handles=("ar1", "ar2"),
            arrays=("ar1", "ar2"), cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=_REALS, ranks=(1, 2), grad=False)),
    Pattern("numpy.setdiff1d", examples=("np.setdiff1d(a, b)", "np.setdiff1d(a, [0, 1])"), lower=_setdiff1d,
            handles=("ar1", "ar2"), arrays=("ar1", "ar2"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=_REALS, ranks=(1, 2), grad=False)),
    Pattern("numpy.unravel_index", examples=("np.unravel_index(a, (2, 3))", "np.unravel_index(5, (2, 3, 4))"),
            lower=_unravel_index, handles=("indices", "shape"), arrays=("indices",), cast=Cast.NONE,
            batch=Batch.NONE, domain=_INDEX),
    Pattern("numpy.ravel_multi_index", examples=("np.ravel_multi_index((a, b), (3, 4))",), lower=_ravel_multi_index,
            handles=("multi_index", "dims"), arrays=("multi_index",), cast=Cast.NONE, batch=Batch.NONE,
            domain=_INDEX, note="indices are not checked against dims (NumPy raises)"),
    Pattern("numpy.bincount", examples=("np.bincount(a)", "np.bincount(a, minlength=6)"),
            lower=_bincount, handles=("x", "minlength"), arrays=("x",), cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(values=Values.INDEX, dtypes=("int8", "int16", "int32", "int64", "uint8", "bool"),
                                            ranks=(1,), grad=False, broadcast=False),
            note="int64 counts, as NumPy"),
    Pattern("numpy.histogram", examples=("np.histogram(a, bins=4, range=(-1.0, 2.0))", "np.histogram(a, 3, (0, 1))"),
            lower=_histogram, handles=("a", "bins", "range", "density"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=("float64", "int32", "int64"), ranks=(1, 2), grad=False),
            note="values outside range are dropped and the last bin is closed (tf.histogram_fixed_width clamps)"),
    Pattern("numpy.histogram_bin_edges", examples=("np.histogram_bin_edges(a, bins=4, range=(-1.0, 2.0))",
                                                   "np.histogram_bin_edges(a, 5, (2, 2))"),
            lower=_histogram_bin_edges, handles=("a", "bins", "range"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=("float64", "int32", "int64"), ranks=(1, 2), grad=False)),
    Pattern("numpy.interp", examples=("np.interp(a, [-1.0, 0.0, 2.0], [0.0, 1.0, -1.0])",
                                      "np.interp(a, [0, 1], [1, 2], left=-5, right=7.5)",
                                      "np.interp(a, [-1.0, 0.0, 0.0, 1.0], [1.0, 2.0, 3.0, 4.0])"),
            lower=_interp, handles=("x", "xp", "fp", "left", "right"), arrays=("x", "xp", "fp"), cast=Cast.NONE,
            domain=Domain(dtypes=("float32", "float64", "int64"), ranks=(1,), grad=False),
            note="float64 throughout; exact knots give fp exactly; left/right default to fp[0]/fp[-1]"),
    Pattern("numpy.tril_indices", examples=("np.tril_indices(4)", "np.tril_indices(3, -1, 5)"),
            lower=_triangle_indices(False), handles=("n", "k", "m"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=("float64",), ranks=(1,), grad=False)),
    Pattern("numpy.triu_indices", examples=("np.triu_indices(4)", "np.triu_indices(3, 1, 5)"),
            lower=_triangle_indices(True), handles=("n", "k", "m"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=("float64",), ranks=(1,), grad=False)),
    Pattern("numpy.diag_indices", examples=("np.diag_indices(3)", "np.diag_indices(4, 3)"),
            lower=_diag_indices, handles=("n", "ndim"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=("float64",), ranks=(1,), grad=False)),
)

_BY_NAME = {p.numpy: p for p in PATTERNS}

PATTERNS = PATTERNS + (
    _BY_NAME["numpy.argsort"].as_method("argsort", ("a.argsort(kind='stable')", "a.argsort(axis=0, stable=True)")),
    _BY_NAME["numpy.searchsorted"].as_method("searchsorted", ("np.sort(a).searchsorted(b, side='right')",)),
    _BY_NAME["numpy.take"].as_method("take", ("a.take([0, -1])", "a.take([1, -2], axis=-1)")),
    _BY_NAME["numpy.nonzero"].as_method("nonzero", ("a.nonzero()",)),
    Pattern("ndarray.compress", examples=("a.compress([True, False, True], axis=0)", "a.compress([0, 1])"),
            signature="(self, condition, axis=None, out=None)", lower=_compress, handles=("condition", "axis"), result=_compress_result,
            arrays=("self",), cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(1, 2), grad=False)),
)
