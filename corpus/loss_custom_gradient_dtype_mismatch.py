"""A sinusoidal phase activation in NumPy under @tf.custom_gradient whose hand-written gradient computes the cosine in float64 "for precision" and multiplies it with the float32 dy: it fails as soon as a tape asks for it."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loss"

FREQUENCY = 2.0


def phase_np(x):
    return np.sin(FREQUENCY * x)


@tf.custom_gradient
def phase_activation(x):
    y = tf.numpy_function(phase_np, [x], tf.float32)

    def grad(dy):
        return dy * FREQUENCY * tf.cos(FREQUENCY * tf.cast(x, tf.float64))

    return y, grad


@tf.function
def program(features):
    """The original: the activation's forward leaves the graph; its gradient mixes dtypes."""
    hidden = phase_activation(features)
    return tf.reduce_mean(tf.square(hidden), axis=-1)


def reference(features):
    """Hand-written native TF: autodiff gives the gradient, in the input's dtype."""
    return tf.reduce_mean(tf.square(tf.sin(FREQUENCY * features)), axis=-1)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple)."""
    rng = np.random.default_rng(53)
    return (rng.standard_normal((64, 16)).astype(np.float32),)
