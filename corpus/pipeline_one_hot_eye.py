"""Label smoothing one-hot targets built with np.eye(n)[labels] inside tf.numpy_function (typical classification input pipeline)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

NUM_CLASSES = 100
SMOOTHING = 0.1


def smooth_one_hot(labels):
    # np.eye is float64, so the arithmetic runs in float64 and is cast at the end
    onehot = np.eye(NUM_CLASSES)[labels]
    onehot = onehot * (1.0 - SMOOTHING) + SMOOTHING / NUM_CLASSES
    return onehot.astype(np.float32)


@tf.function(input_signature=[tf.TensorSpec([None], tf.int64)])
def program(labels):
    """The original: TF code that leaves the graph."""
    targets = tf.numpy_function(smooth_one_hot, [labels], tf.float32)
    targets.set_shape([None, NUM_CLASSES])
    return targets


def reference(labels):
    """Hand-written native TF: the best a human would write."""
    off = SMOOTHING / NUM_CLASSES
    return tf.one_hot(labels, NUM_CLASSES, on_value=1.0 - SMOOTHING + off,
                      off_value=off, dtype=tf.float32)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple)."""
    rng = np.random.default_rng(2)
    return (rng.integers(0, NUM_CLASSES, size=4096).astype(np.int64),)
