"""Signed total of price moves with a Python loop over the elements under if/else inside tf.numpy_function (gains counted twice, losses by their size)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loop"


def weighted_moves(moves):
    total = 0.0
    for v in moves:
        if v > 0:
            total += 2 * v
        else:
            total -= v
    return np.float32(total)


@tf.function
def program(moves):
    """The original: one Python step per element, outside the graph."""
    total = tf.numpy_function(weighted_moves, [moves], tf.float32)
    total.set_shape([])
    return total


def reference(moves):
    """Hand-written native TF: both branches at once, selected per element."""
    moves = tf.convert_to_tensor(moves)
    return tf.reduce_sum(tf.where(moves > 0, 2 * moves, -moves))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 100000 daily moves."""
    rng = np.random.default_rng(16)
    return (rng.standard_normal(100_000).astype(np.float32),)
