"""Rank of every score within its row via np.apply_along_axis(argsort(argsort)) inside tf.numpy_function (learning-to-rank feature prep)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "apply_along_axis"


def rank_rows(scores):
    # argsort returns int64 (np.intp)
    return np.apply_along_axis(lambda r: np.argsort(np.argsort(r)), 1, scores)


@tf.function(input_signature=[tf.TensorSpec([None, 100], tf.float32)])
def program(scores):
    """The original: one Python call per row inside NumPy."""
    ranks = tf.numpy_function(rank_rows, [scores], tf.int64)
    ranks.set_shape([None, 100])
    return ranks


def reference(scores):
    """Hand-written native TF: the best a human would write (ties would be ordered differently)."""
    order = tf.argsort(scores, axis=1)
    return tf.cast(tf.argsort(order, axis=1), tf.int64)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): distinct scores within each row."""
    rng = np.random.default_rng(50)
    perm = np.argsort(rng.random((2048, 100)), axis=1)
    scores = perm * 0.01 + rng.uniform(-1, 1, size=(2048, 1))
    return (scores.astype(np.float32),)
