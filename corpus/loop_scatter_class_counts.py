"""Inverse-frequency class weights for a batch of int labels, counted label by label in a Python loop inside tf.numpy_function (the way imbalanced-data training code weights its loss); no input_signature."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loop"

NUM_CLASSES = 6


def class_weights(labels):
    counts = np.zeros(NUM_CLASSES, np.float32)
    for label in labels:
        counts[label] += 1
    return counts.sum() / (NUM_CLASSES * np.maximum(counts, 1))


@tf.function
def program(labels):
    """The original: TF code that leaves the graph."""
    weights = tf.numpy_function(class_weights, [labels], tf.float32)
    weights.set_shape([NUM_CLASSES])
    return weights


def reference(labels):
    """Hand-written native TF: one bincount for the whole batch."""
    counts = tf.math.bincount(tf.cast(labels, tf.int32), minlength=NUM_CLASSES, maxlength=NUM_CLASSES,
                              dtype=tf.float32)
    return tf.reduce_sum(counts) / (NUM_CLASSES * tf.maximum(counts, 1))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 256 int64 labels, class 4 rare."""
    rng = np.random.default_rng(56)
    labels = rng.choice(NUM_CLASSES, size=256, p=[0.3, 0.25, 0.2, 0.15, 0.02, 0.08])
    return (labels.astype(np.int64),)
