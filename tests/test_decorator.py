"""@autograph_numpy: NumPy functions become callback-free, differentiable tf.functions."""
import warnings

import numpy as np
import pytest

from graph_ops import graph_ops
from rewriter import RewriterWarning, autograph_numpy

CALLBACK_OPS = {"PyFunc", "PyFuncStateless", "EagerPyFunc"}
CENTERS = np.linspace(-1.0, 1.0, 6)  # a module-level array read by a decorated function


def _graph_ops(decorated, *args):
    import tensorflow as tf

    return graph_ops(tf.function(decorated).get_concrete_function(*args))


def _square_norm(v):
    return np.sqrt(np.sum(np.square(v), axis=-1))


@autograph_numpy
def row_stats(x):
    mu = x.mean(axis=0, keepdims=True)
    return (x - mu).max(axis=1) + _square_norm(x)


@autograph_numpy
def spectrum(x):
    return np.abs(np.fft.rfft(x))


@autograph_numpy
def rbf(x):
    return np.exp(-np.square(x[:, None] - CENTERS)).sum(axis=1)


@autograph_numpy
def signed_total(x):
    total = 0.0
    for i in range(4):
        if x[i] > 0:
            total = total + x[i]
        else:
            total = total - 2.0 * x[i]
    return total


@autograph_numpy
def row_energy(a):
    return np.apply_along_axis(lambda r: np.sum(np.square(r)), 1, a)


def _reference(name, x):
    if name == "row_stats":
        return (x - x.mean(0, keepdims=True)).max(1) + np.sqrt((x ** 2).sum(-1))
    if name == "spectrum":
        return np.abs(np.fft.rfft(x))
    if name == "rbf":
        return np.exp(-np.square(x[:, None] - CENTERS)).sum(1)
    if name == "signed_total":
        return sum(v if v > 0 else -2.0 * v for v in x[:4])
    return (x ** 2).sum(1)


CASES = {"row_stats": (row_stats, (5, 7)), "spectrum": (spectrum, (3, 16)), "rbf": (rbf, (9,)),
         "signed_total": (signed_total, (6,)), "row_energy": (row_energy, (4, 5))}


@pytest.mark.parametrize("name", CASES)
def test_values_graph_and_gradient(tf, name):
    decorated, shape = CASES[name]
    x = np.random.default_rng(3).standard_normal(shape)
    got = decorated(x)
    want = _reference(name, x)
    assert got.dtype == tf.as_dtype(np.asarray(want).dtype)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    assert decorated.report[-1]["status"] == "converted", decorated.report
    assert not _graph_ops(decorated, tf.TensorSpec(shape, tf.float64)) & CALLBACK_OPS
    variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.math.real(tf.cast(decorated(variable), tf.complex128)))
    assert tape.gradient(loss, variable) is not None


def test_dtypes_follow_numpy_per_input_signature(tf):
    @autograph_numpy
    def mean(x):
        return x.mean()

    assert mean(np.arange(6, dtype=np.int32)).dtype == tf.float64
    assert mean(np.ones(3, np.float32)).dtype == tf.float32
    assert len(mean.report) == 2


def test_accepts_tensors_arrays_and_scalars(tf):
    @autograph_numpy
    def scale(x, k):
        return x * k

    assert scale(tf.constant([1.0, 2.0]), 3.0).numpy().tolist() == [3.0, 6.0]
    assert scale(np.array([1, 2]), 2).dtype == tf.int64


def test_rewritten_source_and_original(tf):
    assert "tf.signal.rfft" in spectrum.rewritten_source and "np." not in spectrum.rewritten_source
    assert spectrum.original(np.ones(4)).shape == (3,)


def test_unconvertible_function_falls_back_with_one_warning(tf):
    def uses_python_objects(x):
        return np.array(sorted(x.tolist()))

    decorated = autograph_numpy(uses_python_objects)
    x = np.array([3.0, 1.0, 2.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = decorated(x)
        second = decorated(x + 1)
    assert [w.category for w in caught] == [RewriterWarning]
    assert "uses_python_objects runs as NumPy through tf.numpy_function" in str(caught[0].message)
    np.testing.assert_array_equal(first.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(second.numpy(), [2.0, 3.0, 4.0])
    assert decorated.report[0]["status"] == "fell back"


def test_verify_option_checks_the_first_call(tf):
    @autograph_numpy(verify=True)
    def soft(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    x = np.random.default_rng(0).standard_normal(8)
    np.testing.assert_allclose(soft(x).numpy(), np.exp(x) / np.exp(x).sum(), rtol=1e-12)
    assert [r["status"] for r in soft.report] == ["verified", "converted"]


def test_options_and_call_forms(tf):
    def cube(x):
        return x * x * x

    as_call = autograph_numpy(cube)
    with_options = autograph_numpy(input_signature=[tf.TensorSpec([None], tf.float32)], jit_compile=True)(cube)
    x = np.array([1.0, 2.0], np.float32)
    assert as_call(x).numpy().tolist() == with_options(x).numpy().tolist() == [1.0, 8.0]


def test_method_and_closure(tf):
    offset = np.float64(0.5)

    class Model:
        factor = 2.0

        @autograph_numpy
        def __call__(self, x):
            return np.maximum(x, offset)

    assert Model()(np.array([0.0, 1.0])).numpy().tolist() == [0.5, 1.0]


@pytest.mark.slow
def test_inside_data_keras_xla_and_savedmodel(tf, tmp_path):
    x = np.random.default_rng(1).standard_normal((8, 16)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(4).map(spectrum)
    np.testing.assert_allclose(np.concatenate([b.numpy() for b in dataset]), np.abs(np.fft.rfft(x)), rtol=1e-4, atol=1e-4)

    class Layer(tf.keras.layers.Layer):
        def call(self, inputs):
            return row_stats(inputs)

    np.testing.assert_allclose(Layer()(x).numpy(), _reference("row_stats", x.astype(np.float64)).astype(np.float32),
                               rtol=1e-4, atol=1e-4)
    jitted = tf.function(row_stats, jit_compile=True)
    np.testing.assert_allclose(jitted(x).numpy(), row_stats(x).numpy(), rtol=1e-5)

    module = tf.Module()
    module.f = tf.function(rbf, input_signature=[tf.TensorSpec([None], tf.float64)])
    tf.saved_model.save(module, str(tmp_path / "model"))
    loaded = tf.saved_model.load(str(tmp_path / "model"))
    v = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(loaded.f(v).numpy(), _reference("rbf", v), rtol=1e-12)


def test_fallback_whose_first_call_is_inside_a_graph(tf):
    # the output dtypes of the numpy_function fallback come from a run of the original: inside
    # a tf.function (or a tf.data map) the call's inputs are symbols, so zeros stand in
    def ordered(x):
        return np.array(sorted(x.tolist()))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RewriterWarning)
        decorated = autograph_numpy(ordered)
        traced = tf.function(lambda v: decorated(v))
        np.testing.assert_array_equal(traced(tf.constant([3.0, 1.0, 2.0])).numpy(), [1.0, 2.0, 3.0])


def test_dataset_map_prints_no_autograph_warnings_about_the_tool(tf, caplog):
    @autograph_numpy
    def centre(x):
        return (x - x.mean()) / (x.std() + 1e-6)

    x = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    with caplog.at_level("WARNING", logger="tensorflow"):
        out = np.stack([t.numpy() for t in tf.data.Dataset.from_tensor_slices(x).map(centre)])
    np.testing.assert_allclose(out, (x - x.mean(1, keepdims=True)) / (x.std(1, keepdims=True) + 1e-6), rtol=1e-5)
    assert not [r.getMessage() for r in caplog.records if "AutoGraph" in r.getMessage()]


def test_custom_gradient_and_the_decorator_on_one_function_raise_one_clear_error(tf):
    """Neither order can work; both say which form does, before anything runs wrongly."""
    from rewriter import CustomGradientOrder, autograph_numpy

    def square(x):
        y = np.square(x)

        def grad(dy):
            return dy * 2 * x
        return y, grad

    with pytest.raises(CustomGradientOrder, match="in its own function decorated with @autograph_numpy"):
        autograph_numpy(tf.custom_gradient(square))
    inner_first = tf.custom_gradient(autograph_numpy(square))
    x = tf.constant([1.0, 2.0])
    with pytest.raises(CustomGradientOrder, match="call it from the @tf.custom_gradient function"):
        inner_first(x)


def test_the_form_the_error_names_works_with_the_hand_written_gradient(tf):
    from rewriter import RewriterWarning, autograph_numpy

    @autograph_numpy
    def forward(x):
        return np.square(x) + np.sin(x)

    @tf.custom_gradient
    def square_sin(x):
        def grad(dy):
            return dy * (2 * x + tf.cos(x))
        return forward(x), grad

    x = tf.constant([0.5, -1.0, 2.0], tf.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RewriterWarning)  # the forward is converted, not left as NumPy
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = square_sin(x)
    np.testing.assert_allclose(y.numpy(), np.square(x.numpy()) + np.sin(x.numpy()))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 2 * x.numpy() + np.cos(x.numpy()))
