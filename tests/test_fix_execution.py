"""Rewritten modules run: the common numpy_function / py_function sites give the original's
values and dtypes from a graph with no Python callback op."""
import textwrap

import numpy as np

from program_runs import load_module
from rewriter.pipeline import rewrite_source

PROGRAM = textwrap.dedent('''\
    import numpy as np
    import tensorflow as tf


    def standardize(x):
        mu = x.mean(axis=1, keepdims=True)
        sd = x.std(axis=1, keepdims=True)
        return (x - mu) / (sd + 1e-6)


    def softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)


    def fft_magnitude(x):
        return np.abs(np.fft.rfft(x)).astype(np.float32)


    def threshold(x):
        mask = x > 0.5
        return mask.astype(np.float32), mask.sum(axis=-1)


    def one_hot(labels):
        return np.eye(10, dtype=np.float32)[labels]


    def clip_log(x):
        x = x.numpy()
        return np.log1p(np.clip(x, 0.0, None)).astype(np.float32)


    @tf.function(input_signature=[tf.TensorSpec([None, 16], tf.float32), tf.TensorSpec([None], tf.int64)])
    def pipeline(x, labels):
        y = tf.numpy_function(standardize, [x], tf.float32)
        z = tf.numpy_function(softmax, [y], tf.float32)
        a, b = tf.numpy_function(threshold, [z], [tf.float32, tf.int64])
        hot = tf.numpy_function(one_hot, [labels], tf.float32)
        c = tf.py_function(clip_log, [x], tf.float32)
        return tf.numpy_function(fft_magnitude, [x], tf.float32), y, z, a, b, hot, c
''')

CALLBACK_OPS = {"PyFunc", "PyFuncStateless", "EagerPyFunc"}


def _op_types(concrete):
    graph_def = concrete.graph.as_graph_def()
    types = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        types |= {node.op for node in function.node_def}
    return types


def test_common_sites_convert_run_and_match(tf, tmp_path):
    result = rewrite_source(PROGRAM, "program.py")
    assert [c.status for c in result.conversions] == ["converted"] * 6, [c.reason for c in result.conversions]
    original = load_module(tmp_path, PROGRAM, "original_program")
    rewritten = load_module(tmp_path, result.new, "rewritten_program")

    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 16)).astype(np.float32)
    labels = rng.integers(0, 10, 32)
    expected = original.pipeline(x, labels)
    got = rewritten.pipeline(x, labels)
    for want, have in zip(expected, got):
        assert have.dtype == want.dtype and have.shape == want.shape
        np.testing.assert_allclose(have.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)

    assert _op_types(original.pipeline.get_concrete_function()) & CALLBACK_OPS
    assert not _op_types(rewritten.pipeline.get_concrete_function()) & CALLBACK_OPS


def test_rewritten_site_is_differentiable(tf, tmp_path):
    result = rewrite_source(PROGRAM, "program.py")
    rewritten = load_module(tmp_path, result.new, "rewritten_for_grad")
    x = tf.Variable(np.random.default_rng(1).standard_normal((4, 16)).astype(np.float32))
    with tf.GradientTape() as tape:
        z = rewritten.softmax_tf(rewritten.standardize(x))  # softmax_tf: its input is not declared
        loss = tf.reduce_sum(z * tf.range(16, dtype=tf.float32))
    assert tape.gradient(loss, x) is not None


def test_numpy_inputs_reach_the_rewrite_as_tensors(tf, tmp_path):
    # numpy_function converted its inputs to tensors; so must the rewrite, or slicing an
    # ndarray input would give an ndarray back (no .set_shape, no graph).
    source = textwrap.dedent('''\
        import numpy as np
        import tensorflow as tf


        def crop(image):
            return image[1:3, 1:3]


        def pipeline(image):
            out = tf.numpy_function(crop, [image], tf.float32)
            out.set_shape([2, 2])
            return out
        ''')
    result = rewrite_source(source, "crop.py")
    assert "crop_tf(tf.convert_to_tensor(image))" in result.new
    module = load_module(tmp_path, result.new, "crop_rewritten")
    out = module.pipeline(np.arange(16, dtype=np.float32).reshape(4, 4))
    assert isinstance(out, tf.Tensor) and out.numpy().tolist() == [[5.0, 6.0], [9.0, 10.0]]
