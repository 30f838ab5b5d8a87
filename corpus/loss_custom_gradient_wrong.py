"""A Cauchy (Lorentzian) robust regression loss log(1 + (r/c)^2) in NumPy under @tf.custom_gradient whose hand-written gradient drops the factor 2 of d/dr (r^2)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loss"

SCALE = 0.5   # residuals well above SCALE count roughly logarithmically


def cauchy_np(residual):
    return np.log1p((residual / SCALE) ** 2)


@tf.custom_gradient
def cauchy(residual):
    loss = tf.numpy_function(cauchy_np, [residual], tf.float32)

    def grad(dy):
        # d/dr log(1 + r^2/c^2) = 2r / (c^2 + r^2); the 2 is missing here
        return dy * residual / (SCALE ** 2 + residual ** 2)

    return loss, grad


@tf.function
def program(y_true, y_pred):
    """The original: the loss's forward leaves the graph; its gradient is hand-written (and wrong)."""
    return tf.reduce_mean(cauchy(y_pred - y_true))


def reference(y_true, y_pred):
    """Hand-written native TF: autodiff gives the right gradient."""
    return tf.reduce_mean(tf.math.log1p(tf.square((y_pred - y_true) / SCALE)))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple)."""
    rng = np.random.default_rng(52)
    y_true = rng.standard_normal((512, 4))
    y_pred = y_true + rng.standard_normal((512, 4)) * 0.8
    return (y_true.astype(np.float32), y_pred.astype(np.float32))
