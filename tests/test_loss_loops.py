"""Losses summed over examples or filters by a `tf.range` loop, often under tf.GradientTape:
`loss += tf.reduce_mean(tf.square(pred[i] - y[i]))` becomes one reduction of every row and
one sum over the rows. The sum is regrouped, so floats agree to rounding (the loop adds one
step at a time): values and gradients are compared at the floor of the verifier's reduction
tolerance, rtol 1e-5 (float32) and 1e-10 (float64); integers exactly."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from program_runs import load_module, load_rewritten
from rewriter.pipeline import rewrite_source

LOSSES = textwrap.dedent("""\
    import tensorflow as tf


    def squared_error(predictions, targets):
        loss = 0.0
        for i in tf.range(tf.shape(predictions)[0]):
            loss += tf.reduce_mean(tf.square(predictions[i] - targets[i]))
        return loss


    def filter_l1(features, y, n_filters):
        with tf.GradientTape() as tape:
            tape.watch(features)
            loss = tf.zeros([], features.dtype)
            for f in tf.range(n_filters):
                loss += tf.reduce_sum(tf.abs(features[f] - y[f])) * 2
        return loss, tape.gradient(loss, features)


    def int_dot(a, b):
        total = tf.zeros([], a.dtype)
        for i in tf.range(tf.shape(a)[0]):
            total += tf.reduce_sum(a[i] * b[i])
        return total
    """)

RTOL = {"float32": 1e-5, "float64": 1e-10}


@pytest.fixture(scope="module")
def losses(tmp_path_factory):
    (trio,) = load_rewritten(tmp_path_factory.mktemp("loss_loops"), {"losses": LOSSES}).values()
    return trio


def test_loss_loops_become_one_reduction(losses):
    _, _, result = losses
    assert [c.status for c in result.conversions] == ["converted"] * 3, [c.reason for c in result.conversions]
    assert "tf.reduce_mean(\n" in result.new and "axis=tf.range(1, tf.rank(" in result.new
    assert "for i in tf.range" not in result.new and "for f in tf.range" not in result.new
    assert rewrite_source(result.new, "again.py").new == result.new


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", [((6, 3), (6, 3)), ((1, 3), (1, 3)), ((0, 3), (0, 3)), ((5, 2, 3), (5, 3)),
                                    ((4,), (4,)), ((3, 4), (5, 4))])
def test_per_example_losses_and_gradients_match_the_loop(tf, losses, dtype, shapes):
    original, rewritten, _ = losses
    rng = np.random.default_rng(len(shapes[0]))
    predictions = tf.Variable(rng.standard_normal(shapes[0]).astype(dtype))
    targets = tf.constant(rng.standard_normal(shapes[1]).astype(dtype))
    for wrap in (lambda f: f, tf.function):
        results = []
        for module in (original, rewritten):
            with tf.GradientTape() as tape:
                try:
                    loss = tf.convert_to_tensor(wrap(module.squared_error)(predictions, targets), dtype)
                except TypeError:  # a traced loop starts `loss = 0.0` as float32: float64 steps fail
                    assert module is original and dtype == "float64" and wrap is tf.function
                    break
            gradient = tape.gradient(loss, predictions)
            results.append((loss.numpy(), np.zeros(shapes[0], dtype) if gradient is None else gradient.numpy()))
        if not results:
            continue
        (want, want_grad), (got, got_grad) = results
        assert got.dtype == want.dtype and got.shape == want.shape == ()
        np.testing.assert_allclose(got, want, rtol=RTOL[dtype])
        np.testing.assert_allclose(got_grad, want_grad, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_filters", [0, 1, 4])
def test_a_loss_over_filters_under_the_tape(tf, losses, dtype, n_filters):
    original, rewritten, _ = losses
    rng = np.random.default_rng(n_filters)
    features = tf.constant(rng.standard_normal((4, 5, 5)).astype(dtype))
    y = tf.constant(rng.standard_normal((4, 5, 5)).astype(dtype))
    for wrap in (lambda f: f, tf.function):
        # (with no filters the loop records nothing: its gradient is None, the rewrite's zeros)
        want = [np.zeros_like(features) if t is None else t.numpy()
                for t in wrap(original.filter_l1)(features, y, tf.constant(n_filters))]
        got = [t.numpy() for t in wrap(rewritten.filter_l1)(features, y, tf.constant(n_filters))]
        for one, other in zip(got, want):
            assert one.dtype == other.dtype and one.shape == other.shape
            np.testing.assert_allclose(one, other, rtol=RTOL[dtype])


def test_a_loop_reading_past_the_last_row_still_fails(tf, losses):
    _, rewritten, _ = losses
    features = tf.zeros((2, 3))
    with pytest.raises(tf.errors.InvalidArgumentError):
        rewritten.filter_l1(features, features, tf.constant(3))


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_integer_sums_are_exact(tf, losses, dtype):
    original, rewritten, _ = losses
    a = np.random.default_rng(1).integers(-2**20, 2**20, (7, 9)).astype(dtype)
    b = np.random.default_rng(2).integers(-2**12, 2**12, (7, 9)).astype(dtype)
    for wrap in (lambda f: f, tf.function):
        want, got = wrap(original.int_dot)(a, b).numpy(), wrap(rewritten.int_dot)(a, b).numpy()
        assert got.dtype == want.dtype and got == want


def test_a_keras_train_step_trains_the_same(tf, tmp_path):
    source = textwrap.dedent("""\
        import tensorflow as tf


        def make_step(model, optimizer):
            @tf.function
            def step(x, y):
                with tf.GradientTape() as tape:
                    out = model(x)
                    loss = 0.0
                    for i in tf.range(tf.shape(x)[0]):
                        loss += tf.reduce_mean(tf.square(out[i] - y[i]))
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(grads, model.trainable_variables))
                return loss
            return step
        """)
    result = rewrite_source(source, "train.py")
    assert [c.status for c in result.conversions] == ["converted"]
    x = np.random.default_rng(3).standard_normal((8, 3)).astype(np.float32)
    y = np.random.default_rng(4).standard_normal((8, 2)).astype(np.float32)
    histories = []
    for text in (source, result.new):
        module = load_module(tmp_path, text)  # from a file: AutoGraph reads the loop's source
        tf.keras.utils.set_random_seed(0)
        model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
        step = module.make_step(model, tf.keras.optimizers.SGD(0.05))
        histories.append([float(step(x, y)) for _ in range(3)] + list(model.layers[0].kernel.numpy().ravel()))
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)


@pytest.mark.parametrize("step, reason", [
    ("loss += tf.reduce_mean(x[i]) * x[i]", "mixes a reduction of its rows with other values"),
    ("loss += tf.reduce_mean(x[i]) * tf.cast(i, tf.float32)", "mixes a reduction of its rows with other values"),
    ("loss += tf.reduce_mean(x[i] * w)", "reduces more than rows read at the loop counter"),
    ("loss += tf.reduce_mean(x[i], axis=0)", "is not elementwise in the loop counter"),
])
def test_other_reductions_keep_the_loop(step, reason):
    source = ("import tensorflow as tf\n\n\ndef f(x, w):\n    loss = 0.0\n"
              f"    for i in tf.range(tf.shape(x)[0]):\n        {step}\n    return loss\n")
    result = rewrite_source(source, "left.py")
    (conversion,) = result.conversions
    assert conversion.status == "left" and result.new == source
    assert reason in conversion.reason, conversion.reason
