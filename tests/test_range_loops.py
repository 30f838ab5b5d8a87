"""Loops over `tf.range` in TF code: TensorArray writes, running values (cumsum, and cummax-like
scans by log-step doubling) and folds (max/min/xor/and/or trees, sums) become whole-range ops.

Each program runs as written (its loop) and as rewritten, on the same inputs: exactly equal for
max, min and the bitwise ops (NaN included), close for float sums. Products stay loops. Most runs are
eager; a sample is traced for the graph checks (no While op where the step count is static, a
While of log2(steps) rounds where it is not) and for gradients."""
import textwrap

import numpy as np
import pytest

from rewriter.corpus import import_file
from rewriter.pipeline import rewrite_source

LOOP_OPS = {"While", "StatelessWhile"}


def _rewrite(source):
    result = rewrite_source(textwrap.dedent(source), "program.py")
    assert not result.error, result.error
    return result


def _programs(folder, source):
    """(original module, rewritten module, rewritten text) of a program that must convert.
    Both are imported from files: AutoGraph reads the source of what it converts."""
    result = _rewrite(source)
    assert {c.status for c in result.conversions} == {"converted"}, \
        [(c.code, c.reason) for c in result.conversions]
    folder.mkdir(exist_ok=True)
    modules = []
    for label, text in (("original", result.original), ("rewritten", result.new)):
        path = folder / f"{label}.py"
        path.write_text(text, encoding="utf-8")
        modules.append(import_file(path, label))
    return modules[0], modules[1], result.new


def _left(source):
    """(code, reason) of a program whose loop must stay a loop."""
    result = _rewrite(source)
    (conversion,) = result.conversions
    assert conversion.status == "left" and result.new == result.original, result.new
    return conversion.code, conversion.reason


def _numpy(outputs):
    return [o.numpy() for o in (outputs if isinstance(outputs, (tuple, list)) else [outputs])]


def _equal(actual, expected):
    """Exactly equal: NaN where NaN. A tied +0.0 and -0.0 compare equal: which one tf.maximum
    returns depends on where the pair sits in its tensor (vectorized or scalar kernel path), so
    not even the loop itself fixes it."""
    for a, e in zip(_numpy(actual), _numpy(expected)):
        assert a.dtype == e.dtype and a.shape == e.shape, (a.dtype, a.shape, e.dtype, e.shape)
        np.testing.assert_array_equal(a, e)


def _close(actual, expected):
    for a, e in zip(_numpy(actual), _numpy(expected)):
        assert a.dtype == e.dtype and a.shape == e.shape, (a.dtype, a.shape, e.dtype, e.shape)
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-5)


def _loop_ops(tf, fn, *specs):
    graph_def = tf.function(fn).get_concrete_function(*specs).graph.as_graph_def()
    ops = {n.op for n in graph_def.node}
    for function in graph_def.library.function:
        ops |= {n.op for n in function.node_def}
    return ops & LOOP_OPS


def _rows(rng, n, dtype, width=3):
    """n rows of values with repeats, ties of +0.0 and -0.0, and NaN (floats); extremes (ints)."""
    if np.dtype(dtype).kind == "b":
        return rng.random((n, width)) < 0.2
    if np.dtype(dtype).kind == "f":
        values = rng.choice(np.array([-2.5, -1.0, -0.0, 0.0, 0.5, 3.0, np.nan, -np.inf], dtype), size=(n, width))
        return values
    info = np.iinfo(dtype)
    pool = np.array([info.min, -7, -1, 0, 1, 6, 12, info.max], dtype)
    return rng.choice(pool, size=(n, width))


# -- running values written to a TensorArray ---------------------------------------------------

RUNNING = """\
import tensorflow as tf


def program(x, init):
    steps = tf.shape(x)[0]
    out = tf.TensorArray(x.dtype, size=steps)
    running = init
    for t in tf.range(steps):
        {update}
        out = out.write(t, running)
    return out.stack(), running
"""

EXACT_UPDATES = {  # exact under any grouping
    "maximum": ("running = tf.maximum(running, x[t])", ("float32", "float64", "int32", "int64")),
    "minimum-swapped": ("running = tf.minimum(x[t], running)", ("float32", "int64")),
    "xor": ("running = running ^ x[t]", ("int32", "int64")),
    "and": ("running = tf.bitwise.bitwise_and(running, x[t])", ("int32", "int64")),
    "or": ("running |= x[t]", ("int32",)),
    "logical-or": ("running = tf.logical_or(running, x[t])", ("bool",)),
    "logical-and": ("running = tf.math.logical_and(x[t], running)", ("bool",)),
}
ROUNDED_UPDATES = {  # reassociated: close for floats, exact for integers (wrapping arithmetic)
    "add": ("running = running + x[t]", ("float32", "int32", "int64")),
    "add-augmented": ("running += x[t] * 2", ("float64",)),
    "subtract": ("running = tf.subtract(running, x[t])", ("float32", "int64")),
}


def _initial_values(rng, dtype):
    """Zeros, the op-neutral extreme, and another tensor (with NaN for floats)."""
    kind = np.dtype(dtype).kind
    if kind == "b":
        return [np.zeros(3, dtype), np.ones(3, dtype), _rows(rng, 1, dtype)[0]]
    lowest = -np.inf if kind == "f" else np.iinfo(dtype).min
    return [np.zeros(3, dtype), np.full(3, lowest, dtype), _rows(rng, 1, dtype)[0]]


@pytest.mark.parametrize("update, dtypes", EXACT_UPDATES.values(), ids=EXACT_UPDATES.keys())
def test_running_values_are_exact(tf, tmp_path, update, dtypes):
    original, rewritten, text = _programs(tmp_path, RUNNING.format(update=update))
    assert "for t in" not in text and "unstack" in text
    rng = np.random.default_rng(0)
    for dtype in dtypes:
        # within the first block of 8 rows, block edges, partial last blocks, many blocks
        for n in (0, 1, 2, 5, 8, 9, 33, 67):
            x = _rows(rng, n, dtype)
            for init in _initial_values(rng, dtype):
                args = (tf.constant(x), tf.constant(init))
                _equal(rewritten.program(*args), original.program(*args))


@pytest.mark.parametrize("update, dtypes", ROUNDED_UPDATES.values(), ids=ROUNDED_UPDATES.keys())
def test_running_sums_match(tf, tmp_path, update, dtypes):
    original, rewritten, text = _programs(tmp_path, RUNNING.format(update=update))
    assert "for t in" not in text
    rng = np.random.default_rng(1)
    for dtype in dtypes:
        floats = np.dtype(dtype).kind == "f"
        compare = _close if floats else _equal
        for n in (0, 1, 6, 40):
            x = rng.standard_normal((n, 3)).astype(dtype) * 10 if floats else _rows(rng, n, dtype)
            init = np.full(3, 2, dtype)
            compare(rewritten.program(tf.constant(x), tf.constant(init)),
                    original.program(tf.constant(x), tf.constant(init)))


def test_corpus_running_max_form_in_the_graph(tf, tmp_path):
    """The corpus shape (running = x[0], the value not read after the loop), traced: no While
    with a static step count; with a dynamic one, three unrolled rounds over all rows and a While
    of ceil(log2(steps // 8)) rounds over the rows ending each block of 8."""
    source = RUNNING.format(update="running = tf.maximum(running, x[t])").replace(
        "running = init", "running = x[0]").replace("return out.stack(), running", "return out.stack()")
    original, rewritten, text = _programs(tmp_path, source)
    assert "running = tf.maximum(running" not in text  # the final value is not computed: nothing reads it
    rng = np.random.default_rng(2)
    dynamic = [tf.TensorSpec([None, 3], tf.float32), tf.TensorSpec([3], tf.float32)]
    traced = [tf.function(m.program, input_signature=dynamic) for m in (original, rewritten)]
    for n in (1, 2, 7, 64):
        x = tf.constant(_rows(rng, n, "float32"))
        _equal(traced[1](x, x[0]), traced[0](x, x[0]))
    assert not _loop_ops(tf, rewritten.program, tf.TensorSpec([9, 3], tf.float32), tf.TensorSpec([3], tf.float32))
    steps = (1, 2, 3, 5, 64, 65, 1000)
    assert _rounds(tf, rewritten.program, dynamic, steps) == [int(np.ceil(np.log2(max(n // 8, 1)))) for n in steps]


@pytest.mark.parametrize("update", ["running = tf.maximum(running, x[t])", "running = running ^ x[t]"],
                         ids=["maximum", "xor"])
def test_running_values_compile_under_xla_with_a_step_count_known_at_run_time(tf, tmp_path, update):
    """The doubling rounds keep every shape fixed (a gather, not slices of the shift's length),
    so the While op a dynamic step count makes compiles; values as the loop's, run without XLA
    (no NaN here: XLA has its own NaN rule for max). Only the rows are returned: the final
    value's pairwise tree halves its rows each round, which XLA cannot compile."""
    source = RUNNING.format(update=update).replace("return out.stack(), running", "return out.stack()")
    original, rewritten, _ = _programs(tmp_path, source)
    dynamic = [tf.TensorSpec([None, 3], tf.int32), tf.TensorSpec([3], tf.int32)]
    compiled = tf.function(rewritten.program, input_signature=dynamic, jit_compile=True)
    rng = np.random.default_rng(4)
    for n in (1, 2, 3, 37, 70):
        args = (tf.constant(_rows(rng, n, "int32")), tf.constant(_rows(rng, 1, "int32")[0]))
        _equal(compiled(*args), original.program(*args))


def _rounds(tf, fn, specs, steps) -> list:
    """The iteration count of the traced function's While op (its output 0) for an input of
    each number of rows."""
    graph_def = tf.function(fn).get_concrete_function(*specs).graph.as_graph_def()
    (loop,) = [n.name for n in graph_def.node if n.op in LOOP_OPS]
    inputs = [n.name for n in graph_def.node if n.op == "Placeholder"]
    found = []
    with tf.Graph().as_default() as graph:
        tf.compat.v1.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=graph) as session:
            for rows in steps:
                feed = {f"{inputs[0]}:0": np.zeros((rows, 3), np.float32), f"{inputs[1]}:0": np.zeros(3, np.float32)}
                found.append(int(session.run(f"{loop}:0", feed)))
    return found


def test_gradients_of_cumsum_and_cummax_forms(tf, tmp_path):
    """Gradients flow through the running values as through the loop (ties of max go to the
    earlier value, as tf.maximum's gradient does in the loop)."""
    rng = np.random.default_rng(3)
    x = rng.integers(-2, 3, size=(9, 3)).astype(np.float32)  # ties and zeros
    weights = tf.constant(rng.standard_normal((9, 3)).astype(np.float32))
    for case, update in enumerate(("running = running + x[t]", "running = tf.maximum(running, x[t])")):
        original, rewritten, _ = _programs(tmp_path / str(case), RUNNING.format(update=update))
        gradients = []
        for module in (original, rewritten):
            variable = tf.Variable(x)
            with tf.GradientTape() as tape:
                values, final = tf.function(module.program)(variable, tf.ones(3))
                total = tf.reduce_sum(values * weights) + tf.reduce_sum(final)
            gradients.append(tape.gradient(total, variable))
        assert gradients[1] is not None, update
        np.testing.assert_allclose(gradients[1].numpy(), gradients[0].numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("update", ["running = tf.maximum(running, x[t])", "running = tf.minimum(x[t], running)"],
                         ids=["maximum", "minimum-swapped"])
def test_gradients_of_running_values_over_many_blocks(tf, tmp_path, update):
    """Over several blocks of 8 rows, windows that overlap and blocks that meet: each running
    value's gradient goes to the element of the loop's tie rule (earlier for tf.maximum(running,
    v), later for tf.minimum(v, running)), as through the loop."""
    source = RUNNING.format(update=update).replace("return out.stack(), running", "return out.stack()")
    original, rewritten, _ = _programs(tmp_path, source)
    rng = np.random.default_rng(6)
    for steps in (16, 43):
        x = rng.integers(-2, 3, size=(steps, 3)).astype(np.float32)  # many ties
        weights = tf.constant(rng.standard_normal((steps, 3)).astype(np.float32))
        gradients = []
        for module in (original, rewritten):
            variable = tf.Variable(x)
            with tf.GradientTape() as tape:
                total = tf.reduce_sum(tf.function(module.program)(variable, tf.zeros(3)) * weights)
            gradients.append(tape.gradient(total, variable))
        np.testing.assert_allclose(gradients[1].numpy(), gradients[0].numpy(), rtol=1e-5, atol=1e-6)


# -- TensorArray writes of each step's value ---------------------------------------------------

def test_values_of_the_counter(tf, tmp_path):
    original, rewritten, text = _programs(tmp_path, """\
        import tensorflow as tf


        def program(n):
            ta = tf.TensorArray(tf.float32, size=n)
            for t in tf.range(n):
                half = tf.cast(t, tf.float32) * 0.5
                ta = ta.write(t, tf.where(t % 3 == 0, tf.sqrt(half), -half))
            return ta.stack()


        def fixed():
            ta = tf.TensorArray(tf.int64, size=6)
            for t in tf.range(6, dtype=tf.int64):
                ta = ta.write(t, t * t - 3)
            return ta.stack()
        """)
    assert text.count("unstack") == 2 and "while" not in text
    for n in (0, 1, 7):
        _equal(rewritten.program(tf.constant(n)), original.program(tf.constant(n)))
    _equal(rewritten.fixed(), original.fixed())
    traced = tf.function(rewritten.program, input_signature=[tf.TensorSpec([], tf.int32)])
    _equal(traced(tf.constant(5)), original.program(tf.constant(5)))
    assert not _loop_ops(tf, rewritten.program, tf.TensorSpec([], tf.int32))
    assert not _loop_ops(tf, rewritten.fixed)


def test_values_of_rows_read_at_the_counter(tf, tmp_path):
    """`ta.write(t, f(x[t]))` is f(x) over all the rows the loop reads: x itself when the loop
    runs over tf.shape(x)[0], x[:n] otherwise (where reading past the end still fails)."""
    original, rewritten, text = _programs(tmp_path, """\
        import tensorflow as tf


        def whole(x):
            steps = tf.shape(x)[0]
            ta = tf.TensorArray(x.dtype, size=steps)
            for t in tf.range(steps):
                ta = ta.write(t, tf.nn.relu(x[t, :, 1]) * 2 + x[t, :, 0] * tf.cast(t, x.dtype))
            return ta.stack()


        def prefix(x, n):
            ta = tf.TensorArray(x.dtype, size=n)
            for t in tf.range(n):
                ta = ta.write(t, tf.abs(x[t]))
            return ta.stack()


        def total(x, n):
            acc = tf.zeros_like(x[0])
            for t in tf.range(n):
                acc = tf.maximum(acc, x[t] - 1.0)
            return acc
        """)
    assert "x[:, :, 1]" in text and "x[:tf.maximum(n, 0)]" in text and text.count("assert_less_equal") == 2
    rng = np.random.default_rng(4)
    for dtype in ("float32", "float64"):
        for rows in (0, 1, 5):
            x = tf.constant(_rows(rng, rows * 2, dtype, width=2).reshape(rows, 2, 2))
            _equal(rewritten.whole(x), original.whole(x))
    x = tf.constant(_rows(rng, 6, "float32"))
    for n in (0, 3, 6):
        _equal(rewritten.prefix(x, tf.constant(n)), original.prefix(x, tf.constant(n)))
    for n in (0, 4, 6):
        _equal(rewritten.total(x, tf.constant(n)), original.total(x, tf.constant(n)))
    for module in (original, rewritten):
        with pytest.raises(tf.errors.InvalidArgumentError):
            module.total(x, tf.constant(7))
    assert not _loop_ops(tf, rewritten.whole, tf.TensorSpec([None, 2, 2], tf.float32))


NEGATIVE_COUNTS = """\
import tensorflow as tf


def program(x, n, low, high):
    total = tf.zeros_like(x[0])
    top = tf.fill(tf.shape(x[0]), tf.constant(-1.0, x.dtype))
    count = tf.zeros([], n.dtype)
    up = tf.zeros([], n.dtype)
    down = tf.zeros([], n.dtype)
    for t in tf.range(n):
        total = total + x[t]
        top = tf.maximum(top, x[t])
    for i in tf.range(n):
        count += i * 2
    for j in tf.range(low, high):
        up += j
    for k in tf.range(high, low, -2):
        down -= k
    return total, top, count, up, down
"""


def test_a_range_that_runs_zero_times(tf, tmp_path):
    """Traced, AutoGraph runs `tf.range(n)` of a negative n (or a start past the limit) zero
    times without running the Range op, which raises there; the rewrite must give the same zero
    steps, traced and eager (run eagerly, the loop itself raises at `tf.range(-2)`)."""
    original, rewritten, text = _programs(tmp_path, NEGATIVE_COUNTS)
    assert "for " not in text and "tf.range(n)" not in text
    x = tf.constant(_rows(np.random.default_rng(9), 4, "float32"))
    traced = [tf.function(m.program) for m in (original, rewritten)]
    for dtype in (tf.int32, tf.int64):
        for n, low, high in ((-2, 3, -1), (0, 0, 0), (3, -2, 3), (4, 5, 4)):
            args = (x, tf.constant(n, dtype), tf.constant(low, dtype), tf.constant(high, dtype))
            want = traced[0](*args)
            _equal(traced[1](*args), want)
            _equal(rewritten.program(*args), want)


# -- folds ------------------------------------------------------------------------------------

PARITY = """\
import tensorflow as tf


def program(codes, bits):
    parity = tf.zeros_like(codes)
    for i in tf.range({bound}):
        bit = tf.bitwise.bitwise_and(tf.bitwise.right_shift(codes, tf.cast(i, codes.dtype)), tf.cast(1, codes.dtype))
        parity = tf.bitwise.bitwise_xor(parity, bit)
    return parity
"""


@pytest.mark.parametrize("bound", ["32", "bits"])
def test_a_fold_over_whole_tensors_stays_a_loop(bound):
    source = PARITY.format(bound=bound)
    (conversion,) = rewrite_source(source, "parity.py").conversions
    assert conversion.status == "left" and conversion.code == "RW318", conversion.reason
    assert "`codes`" in conversion.reason


FOLD = """\
import tensorflow as tf


def program(x, init):
    acc = init
    for t in tf.range(tf.shape(x)[0]):
        acc = {update}
    return acc
"""

FOLDS = {
    "maximum": ("tf.maximum(acc, x[t] * 2)", ("float32", "int64"), _equal),
    "minimum-swapped": ("tf.math.minimum(tf.abs(x[t]), acc)", ("float64", "int32"), _equal),
    "xor": ("acc ^ (x[t] + 1)", ("int32", "int64"), _equal),
    "and": ("tf.bitwise.bitwise_and(acc, x[t])", ("int64",), _equal),
    "or": ("x[t] | acc", ("int32",), _equal),
    "logical-xor": ("tf.math.logical_xor(acc, x[t] > 0)", ("float32",), _equal),
    "sum": ("acc + tf.square(x[t])", ("float32",), _close),
}


@pytest.mark.parametrize("update, dtypes, compare", FOLDS.values(), ids=FOLDS.keys())
def test_folds(tf, tmp_path, update, dtypes, compare):
    original, rewritten, text = _programs(tmp_path, FOLD.format(update=update))
    assert "for t in" not in text
    rng = np.random.default_rng(6)
    for dtype in dtypes:
        for n in (0, 1, 2, 3, 8, 29):
            x = _rows(rng, n, dtype)
            if "logical" in update:
                inits = [np.array([True, False, True])]
            elif "abs" in update and np.dtype(dtype).kind == "i":
                x = np.maximum(x, -100)  # tf.abs of the lowest integer overflows the same way in both
                inits = _initial_values(rng, dtype)
            else:
                inits = _initial_values(rng, dtype) if compare is _equal else [np.full(3, 0.5, dtype)]
            for init in inits:
                compare(rewritten.program(tf.constant(x), tf.constant(init)),
                        original.program(tf.constant(x), tf.constant(init)))


def test_fold_with_a_static_step_count_unrolls(tf, tmp_path):
    _, rewritten, _ = _programs(tmp_path, FOLD.format(update="tf.maximum(acc, x[t])"))
    specs = (tf.TensorSpec([None, 3], tf.float32), tf.TensorSpec([3], tf.float32))
    assert _loop_ops(tf, rewritten.program, *specs)
    assert not _loop_ops(tf, rewritten.program, tf.TensorSpec([13, 3], tf.float32), specs[1])
    assert not _loop_ops(tf, rewritten.program, tf.TensorSpec([0, 3], tf.float32), specs[1])


def test_accumulation_under_a_branch_still_converts(tf, tmp_path):
    original, rewritten, text = _programs(tmp_path, """\
        import tensorflow as tf


        def program(n):
            r = tf.constant(0)
            for i in tf.range(n):
                if i % 2 == 0:
                    r += i
                else:
                    r -= i
            return r
        """)
    assert "tf.reduce_sum" in text
    for n in (0, 1, 10):
        _equal(rewritten.program(tf.constant(n)), original.program(tf.constant(n)))


# -- what stays a loop -------------------------------------------------------------------------

LEFT = {
    "recurrence": ("""
        acc = tf.zeros_like(x[0])
        for t in tf.range(tf.shape(x)[0]):
            acc = acc * 0.9 + x[t]
        return acc""", "RW313", "computed from its value at the previous step"),
    "written-before-update": ("""
        ta = tf.TensorArray(tf.float32, size=tf.shape(x)[0])
        acc = tf.zeros_like(x[0])
        for t in tf.range(tf.shape(x)[0]):
            ta = ta.write(t, acc)
            acc = acc + x[t]
        return ta.stack()""", "RW313", "written before this step updates it"),
    "written-elsewhere": ("""
        ta = tf.TensorArray(tf.float32, size=tf.shape(x)[0])
        for t in tf.range(tf.shape(x)[0]):
            ta = ta.write(tf.shape(x)[0] - 1 - t, x[t])
        return ta.stack()""", "RW313", "another position than the counter"),
    "carried-value-read": ("""
        acc = tf.zeros_like(x[0])
        for t in tf.range(tf.shape(x)[0]):
            acc = acc + x[t]
            y = acc * 2.0
        return y""", "RW313", "carries its value from step to step"),
    "other-size": ("""
        ta = tf.TensorArray(tf.float32, size=tf.shape(x)[0] + 1)
        for t in tf.range(tf.shape(x)[0]):
            ta = ta.write(t, x[t])
        return ta.stack()""", "RW315", "not the loop's step count"),
    "array-used-before-loop": ("""
        ta = tf.TensorArray(tf.float32, size=tf.shape(x)[0])
        ta = ta.write(0, x[0])
        for t in tf.range(tf.shape(x)[0]):
            ta = ta.write(t, x[t])
        return ta.stack()""", "RW315", "not a new `tf.TensorArray"),
    "offset-range": ("""
        ta = tf.TensorArray(tf.float32, size=tf.shape(x)[0])
        for t in tf.range(1, tf.shape(x)[0]):
            ta = ta.write(t, x[t])
        return ta.stack()""", "RW315", "does not count from 0 by 1"),
    "temporary-read-after": ("""
        acc = tf.zeros_like(x[0])
        for t in tf.range(tf.shape(x)[0]):
            row = x[t] * 2.0
            acc = tf.maximum(acc, row)
        return acc + row""", "RW314", "`row` is read outside the loop"),
    "rows-and-other-tensors": ("""
        acc = tf.zeros_like(x[0])
        for t in tf.range(tf.shape(x)[0]):
            acc = acc + x[t] * w
        return acc""", "RW317", "mixes rows of a tensor with other tensors"),
    "not-elementwise": ("""
        acc = tf.zeros([])
        for t in tf.range(tf.shape(x)[0]):
            acc = acc + tf.reduce_sum(x[t], axis=0)
        return acc""", "RW312", "is not elementwise"),
    "running-product": ("""
        ta = tf.TensorArray(tf.float32, size=tf.shape(x)[0])
        acc = tf.ones_like(x[0])
        for t in tf.range(tf.shape(x)[0]):
            acc = acc * x[t]
            ta = ta.write(t, acc)
        return ta.stack()""", "RW313", "regroups the factors"),
    "product": ("""
        acc = tf.ones_like(x[0])
        for t in tf.range(tf.shape(x)[0]):
            acc *= tf.abs(x[t])
        return acc""", "RW313", "regroups the factors"),
    "body-rebinds-the-count": ("""
        acc = tf.zeros_like(x[0])
        for t in tf.range(w):
            w = w + t
            acc = acc + x[t]
        return acc""", "RW312", "rebinds `w`, which the range reads"),
    "accumulation-rebinds-the-count": ("""
        total = tf.constant(0)
        for i in tf.range(w):
            w += 1
            total += i
        return total""", "RW312", "rebinds `w`, which the range reads"),
    "step-not-written-out": ("""
        total = tf.constant(0)
        for i in tf.range(0, w, w // 2):
            total += i
        return total""", "RW312", "not a nonzero number written out"),
    "break": ("""
        acc = tf.zeros_like(x[0])
        for t in tf.range(tf.shape(x)[0]):
            acc = tf.maximum(acc, x[t])
            break
        return acc""", "RW313", "it stays a loop"),
}


@pytest.mark.parametrize("body, code, reason", LEFT.values(), ids=LEFT.keys())
def test_loops_that_carry_other_state_stay_loops(body, code, reason):
    source = "import tensorflow as tf\n\n\ndef program(x, w):" + textwrap.indent(textwrap.dedent(body), "    ") + "\n"
    found_code, found_reason = _left(source)
    assert (found_code, reason in found_reason) == (code, True), found_reason


def test_running_values_of_a_carried_value_with_more_axes_than_a_step(tf, tmp_path):
    # acc has shape [3], each step adds a scalar: the running values are [n, 3], not the
    # scalar steps broadcast against acc (wrong values when n == 3, an error otherwise).
    original, rewritten, text = _programs(tmp_path, """\
        import tensorflow as tf


        def program(n):
            acc = tf.constant([1., 2., 3.])
            ta = tf.TensorArray(tf.float32, size=n)
            for t in tf.range(n):
                acc = acc + tf.cast(t, tf.float32)
                ta = ta.write(t, acc)
            return ta.stack(), acc
        """)
    assert "for t in" not in text
    traced = tf.function(rewritten.program, input_signature=[tf.TensorSpec([], tf.int32)])
    for n in (0, 1, 3, 5):
        want = tf.function(original.program)(tf.constant(n))
        for have, expected in zip(traced(tf.constant(n)), want):
            np.testing.assert_array_equal(have.numpy(), expected.numpy())


def test_running_max_of_a_carried_value_with_more_axes_than_a_step(tf, tmp_path):
    # acc has shape [2, 3], each step's value is a row of 3: the running values are [n, 2, 3]
    original, rewritten, text = _programs(tmp_path, """\
        import tensorflow as tf


        def program(x, acc):
            ta = tf.TensorArray(x.dtype, size=tf.shape(x)[0])
            for t in tf.range(tf.shape(x)[0]):
                acc = tf.maximum(acc, x[t])
                ta = ta.write(t, acc)
            return ta.stack(), acc
        """)
    assert "for t in" not in text
    rng = np.random.default_rng(5)
    for dtype in ("float32", "int64"):
        traced = [tf.function(m.program, input_signature=[tf.TensorSpec([None, 3], dtype),
                                                          tf.TensorSpec([2, 3], dtype)]) for m in (original, rewritten)]
        for n in (0, 1, 3, 9, 20):
            args = (tf.constant(_rows(rng, n, dtype)), tf.constant(_rows(rng, 2, dtype)))
            _equal(traced[1](*args), traced[0](*args))
