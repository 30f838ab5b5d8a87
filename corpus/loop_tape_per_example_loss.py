"""Per-example squared error summed by a tf.range loop inside tf.GradientTape: a custom training step's loss and its gradient (per-sample losses written as a loop)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loop"

KERNEL = tf.Variable(np.random.default_rng(81).standard_normal((16, 4)).astype(np.float32) * 0.1)


@tf.function
def program(features, targets):
    """The original: one while-loop iteration per example, recorded by the tape."""
    with tf.GradientTape() as tape:
        predictions = tf.matmul(features, KERNEL)
        loss = 0.0
        for i in tf.range(tf.shape(predictions)[0]):
            loss += tf.reduce_mean(tf.square(predictions[i] - targets[i]))
    return loss, tape.gradient(loss, KERNEL)


def reference(features, targets):
    """Hand-written native TF: every example's mean at once, then their sum."""
    with tf.GradientTape() as tape:
        predictions = tf.matmul(features, KERNEL)
        loss = tf.reduce_sum(tf.reduce_mean(tf.square(predictions - targets), axis=-1))
    return loss, tape.gradient(loss, KERNEL)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 256 examples of 16 features, 4 targets each."""
    rng = np.random.default_rng(82)
    return (rng.standard_normal((256, 16)).astype(np.float32),
            rng.standard_normal((256, 4)).astype(np.float32))
