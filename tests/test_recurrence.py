"""Loops that carry state from step to step: running totals become tf.cumsum/tf.cumprod,
other recurrences tf.scan, with NumPy's values (and gradients) and the loop gone."""
import textwrap

import numpy as np
import pytest

from graph_ops import loop_ops
from rewriter import facts as F
from rewriter.function import Refusal, convert_function



def _both(tf, source, inputs, facts=None):
    """(rewritten TF function, original NumPy function, rewritten text)."""
    facts = facts or {name: F.array(value.dtype, value.ndim, fresh=False) for name, value in inputs.items()}
    converted = convert_function(source, "f", facts)
    original = {"np": np}
    exec(source, original)
    rewritten = {"tf": tf, "np": np}
    exec(converted.text, rewritten)
    return rewritten["f"], original["f"], converted.text


def _check(tf, source, inputs, rtol=1e-6, atol=0.0):
    """Compare the rewrite, traced (as it runs inside a tf.function), with NumPy's original;
    `atol` is relative to the largest magnitude of each output (as the verifier's)."""
    fn, reference, text = _both(tf, source, inputs)
    specs = [tf.TensorSpec([None] * v.ndim, v.dtype) for v in inputs.values()]
    have = tf.function(fn, input_signature=specs)(*[tf.constant(v) for v in inputs.values()])
    with np.errstate(over="ignore"):  # integer recurrences wrap, in NumPy as in TF
        want = reference(*inputs.values())
    have, want = (have, want) if isinstance(want, tuple) else ((have,), (want,))
    for h, w in zip(have, want):
        if isinstance(w, (np.ndarray, np.generic)):  # a Python number has no dtype of its own
            assert h.dtype == tf.as_dtype(w.dtype), text
        w = np.asarray(w)
        assert h.shape == w.shape, text
        scale = float(np.max(np.abs(w))) if w.size and w.dtype.kind in "fc" else 0.0
        np.testing.assert_allclose(h.numpy(), w, rtol=rtol, atol=atol * scale, err_msg=text)
    return text


DISCOUNTED = textwrap.dedent("""\
    import numpy as np


    def f(rewards, dones):
        returns = np.zeros_like(rewards)
        running = np.zeros(rewards.shape[1], dtype=rewards.dtype)
        for t in reversed(range(rewards.shape[0])):
            running = rewards[t] + 0.9 * running * (1.0 - dones[t])
            returns[t] = running
        return returns
    """)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("steps", [0, 1, 9])
def test_discounted_returns_become_a_reverse_scan(tf, dtype, steps):
    rng = np.random.default_rng(steps)
    rewards = rng.standard_normal((steps, 4)).astype(dtype)
    dones = (rng.random((steps, 4)) < 0.3).astype(dtype)
    # the steps are combined pairwise (test_linear_recurrence.py): equal up to rounding
    text = _check(tf, DISCOUNTED, {"rewards": rewards, "dones": dones}, rtol=1e-5 if dtype == "float32" else 1e-12)
    assert "tf.scan(" in text and "reverse=True" in text and "for t in" not in text


def test_a_scan_has_the_gradients_of_the_loop(tf):
    fn, _, _ = _both(tf, DISCOUNTED, {"rewards": np.zeros((1, 1)), "dones": np.zeros((1, 1))})
    rng = np.random.default_rng(3)
    rewards, dones = rng.standard_normal((6, 3)), (rng.random((6, 3)) < 0.3).astype(np.float64)
    theoretical, numerical = tf.test.compute_gradient(lambda r: fn(r, tf.constant(dones)), [tf.constant(rewards)])
    np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-6)
    ops = loop_ops(tf, fn, *[tf.TensorSpec([None, 3], tf.float64)] * 2)
    assert not ops & {"PyFunc", "PyFuncStateless", "EagerPyFunc"}


FORWARD = textwrap.dedent("""\
    import numpy as np


    def f(x):
        ema = np.zeros(x.shape[1])
        peak = 0.0
        out = np.empty_like(x)
        for t in range(len(x)):
            scaled = 0.1 * x[t]
            ema = 0.9 * ema + scaled
            peak = peak * 0.5 + np.max(np.abs(scaled))
            out[t] = ema - peak
        return out, ema, peak
    """)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("steps", [0, 1, 7])
def test_forward_recurrence_keeps_the_final_state_and_the_start_value_on_no_steps(tf, dtype, steps):
    x = np.random.default_rng(steps).standard_normal((steps, 3)).astype(dtype)
    text = _check(tf, FORWARD, {"x": x})
    assert "tf.scan(" in text and "for " not in text


INTEGER = textwrap.dedent("""\
    import numpy as np


    def f(x):
        acc = 0
        out = np.zeros_like(x)
        for t in range(len(x)):
            acc = acc * 31 + x[t]
            out[t] = acc
        return out, acc
    """)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_integer_recurrence_wraps_like_numpy(tf, dtype):
    x = np.random.default_rng(1).integers(-1000, 1000, size=40).astype(dtype)
    _check(tf, INTEGER, {"x": x})


TOTALS = textwrap.dedent("""\
    import numpy as np


    def f(x):
        total = 0.0
        before = np.zeros(len(x))
        after = np.zeros(len(x), dtype=np.int32)
        for i in range(len(x)):
            before[i] = total
            total += x[i].sum() * 2
            after[i] = total
        back = np.empty(x.shape)
        rest = np.zeros(x.shape[1])
        for i in reversed(range(x.shape[0])):
            rest = rest + x[i]
            back[i] = rest
        growth = np.ones(len(x), dtype=x.dtype)
        level = 1
        for i in range(len(x)):
            level *= x[i].sum() + 2
            growth[i] = level
        return before, after, total, back, growth, level
    """)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("rows", [0, 1, 6])
def test_running_totals_become_cumsum_and_cumprod(tf, dtype, rows):
    x = np.random.default_rng(rows).integers(-3, 4, size=(rows, 3)).astype(dtype)
    text = _check(tf, TOTALS, {"x": x})
    assert "for " not in text and "exclusive=True" in text and "reverse=True" in text
    # integer products are exact with cumprod; float ones need tf.scan's gradient
    assert ("tf.math.cumprod(" in text) == (dtype.startswith("int")) != ("tf.scan(" in text)


def test_a_running_float_product_has_the_right_gradient_at_zeros(tf):
    source = textwrap.dedent("""\
        import numpy as np


        def f(x):
            out = np.zeros_like(x)
            p = 1.0
            for t in range(len(x)):
                p *= x[t]
                out[t] = p
            return out
        """)
    fn, _, _ = _both(tf, source, {"x": np.zeros(3)})
    x = tf.constant([2.0, 0.0, 3.0, 4.0], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(fn(x))
    # d/dx1 of x0 + x0 x1 + x0 x1 x2 + x0 x1 x2 x3 at x1 = 0
    np.testing.assert_allclose(tape.gradient(total, x).numpy()[1], 2 + 2 * 3 + 2 * 3 * 4)


def test_running_totals_have_no_loop_in_the_graph(tf):
    fn, _, _ = _both(tf, TOTALS, {"x": np.zeros((2, 3), np.int64)})  # integer products: cumprod
    assert not loop_ops(tf, fn, tf.TensorSpec([None, 3], tf.int64))


@pytest.mark.parametrize("body", [
    # the output is read back: a recurrence through the array
    "out = np.zeros_like(x)\n    for t in range(1, len(x)):\n        out[t] = out[t - 1] * 0.5 + x[t]\n    return out",
    # a per-step name read after the loop (it would need the last step's value)
    "s = 0.0\n    for t in range(len(x)):\n        d = x[t] * 2\n        s = s + d * s\n    return s, d",
    # data-dependent exit
    "s = 0.0\n    for t in range(len(x)):\n        s = s * 0.5 + x[t].sum()\n        if s > 3:\n            break\n    return s",
    # the state grows from a number to a row on the first step
    "s = 0.0\n    for t in range(len(x)):\n        s = s * 0.5 + x[t]\n    return s",
    # an output with more rows than the loop has steps
    "s = np.zeros(x.shape[1])\n    out = np.zeros((len(x) + 1, x.shape[1]))\n    for t in range(len(x)):\n"
    "        s = s * 0.5 + x[t]\n        out[t] = s\n    return out",
    # a Python counter: as a tensor it would promote `x[t] * k` differently
    "k = 0\n    out = np.zeros_like(x)\n    for t in range(len(x)):\n        k = k + 1\n        out[t] = x[t] * k\n"
    "    return out",
], ids=["output-read-back", "temporary-read-after", "break", "state-changes-rank", "more-rows-than-steps",
        "python-counter"])
def test_loops_that_do_not_fit_stay_loops_or_are_refused(tf, body):
    source = f"import numpy as np\n\n\ndef f(x):\n    {body}\n"
    try:
        converted = convert_function(source, "f", {"x": F.array("float64", 2, fresh=False)})
    except Refusal:
        return  # left as NumPy: right as well
    assert "tf.scan" not in converted.text and "for " in converted.text or "while" in converted.text


KEPT = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def early_exit(scores):
        total = 0.0
        for i in range(len(scores)):
            if scores[i] > 3.0:
                break
            total = total * 0.5 + scores[i]
        return np.float32(total)


    def nonlinear(x):
        s = np.ones_like(x[0])
        for t in range(len(x)):
            if s.sum() > 0:
                s = s * x[t]
            else:
                s = s + x[t]
        return s


    def vectorized(x):
        out = np.zeros_like(x)
        for t in range(len(x)):
            out[t] = x[t] * 2
        return out


    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32), tf.TensorSpec([None, 3], tf.float32)])
    def program(scores, x):
        a = tf.numpy_function(early_exit, [scores], tf.float32)
        b = tf.numpy_function(nonlinear, [x], tf.float32)
        c = tf.numpy_function(vectorized, [x], tf.float32)
        return a, b, c
    """)


def test_loops_kept_as_loops_are_reported_with_the_reason():
    from rewriter.pipeline import rewrite_source

    result = rewrite_source(KEPT, "kept.py")
    notes = {c.site.line: c.notes for c in result.conversions if c.status == "converted"}
    assert len(notes) == 3, [(c.line, c.reason) for c in result.conversions]
    early, nonlinear, vectorized = (notes[line] for line in sorted(notes))
    assert early[0] == "line 7: loop kept: it leaves early (`break`/`return`) on a condition that changes per step"
    assert "line 16" in nonlinear[0] and "`s` carries from step to step" in nonlinear[0]
    # the kept loops branch on tensors: AutoGraph converts their functions at import, and says so
    for kept in (early, nonlinear):
        assert len(kept) == 2 and kept[1].startswith("converted by AutoGraph at import"), kept
    assert "line 8: `if` on a tensor" in early[1] and "line 17: `if` on a tensor" in nonlinear[1]
    assert result.new.count("@autograph_converted\n") == 2
    assert vectorized == []


def test_kept_loops_reach_the_json_report(tmp_path):
    import json
    import subprocess
    import sys

    path = tmp_path / "kept.py"
    path.write_text(KEPT)
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "rewriter", "fix", str(path), "--report", str(report)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    sites = json.loads(report.read_text())["files"][0]["sites"]
    assert [len(site["notes"]) for site in sites] == [2, 2, 0]  # loop kept, converted by AutoGraph


def test_a_recurrence_with_no_rows_written_stays_an_autograph_loop():
    # tf.scan would keep a copy of the state per step for nothing: the loop carries it as is.
    source = textwrap.dedent("""\
        import numpy as np


        def f(x):
            h = np.zeros(x.shape[1])
            for t in range(len(x)):
                h = np.tanh(h * 0.5 + x[t])
            return h
        """)
    text = convert_function(source, "f", {"x": F.array("float64", 2, fresh=False)}).text
    assert "tf.scan" not in text and "for t in range(" in text
