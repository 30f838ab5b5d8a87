"""Regression loss of a Kronecker-factored dense layer whose weight is materialised with np.kron as the tf.numpy_function target (factors get no gradient)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loss"

M = 32        # A is [M, M], B is [M, M], W = kron(A, B) is [M*M, M*M]


@tf.function(input_signature=[tf.TensorSpec([None, M * M], tf.float32),
                              tf.TensorSpec([None, M * M], tf.float32),
                              tf.TensorSpec([M, M], tf.float32),
                              tf.TensorSpec([M, M], tf.float32)])
def program(x, y, a, b):
    """The original: TF code that leaves the graph."""
    w = tf.numpy_function(np.kron, [a, b], tf.float32)
    w.set_shape([M * M, M * M])
    pred = tf.matmul(x, w)
    return tf.reduce_mean(tf.square(pred - y))


def reference(x, y, a, b):
    """Hand-written native TF: never materialise W; (x @ kron(A, B)) = A^T X B per example."""
    xr = tf.reshape(x, [-1, M, M])                 # x[n, i*M + k] -> xr[n, i, k]
    pred = tf.einsum("nik,ij,kl->njl", xr, a, b)   # pred[n, j*M + l]
    pred = tf.reshape(pred, [-1, M * M])
    return tf.reduce_mean(tf.square(pred - y))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple)."""
    rng = np.random.default_rng(32)
    x = rng.standard_normal((256, M * M))
    y = rng.standard_normal((256, M * M))
    a = rng.standard_normal((M, M)) / np.sqrt(M)
    b = rng.standard_normal((M, M)) / np.sqrt(M)
    return tuple(v.astype(np.float32) for v in (x, y, a, b))
