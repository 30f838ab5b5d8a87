"""Label-smoothed one-hot targets built in NumPy from int labels inside a loss, as people write it: no input_signature, labels arrive as int32 or int64."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loss"

NUM_CLASSES = 10
SMOOTHING = 0.1


def smoothed_targets(labels):
    onehot = (labels[:, None] == np.arange(NUM_CLASSES)).astype(np.float32)
    return onehot * (1.0 - SMOOTHING) + SMOOTHING / NUM_CLASSES


@tf.function
def program(labels, logits):
    """The original: TF code that leaves the graph."""
    targets = tf.numpy_function(smoothed_targets, [labels], tf.float32)
    targets.set_shape([None, NUM_CLASSES])
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(targets, logits))


def reference(labels, logits):
    """Hand-written native TF: the best a human would write."""
    targets = tf.one_hot(labels, NUM_CLASSES) * (1.0 - SMOOTHING) + SMOOTHING / NUM_CLASSES
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(targets, logits))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): int32 labels and logits."""
    rng = np.random.default_rng(22)
    labels = rng.integers(0, NUM_CLASSES, size=256).astype(np.int32)
    return labels, rng.standard_normal((256, NUM_CLASSES)).astype(np.float32)
