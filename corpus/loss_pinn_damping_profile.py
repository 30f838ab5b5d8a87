"""PINN residual loss for a damped wave equation whose absorbing-layer (PML) damping profile sigma(x) is computed in tf.numpy_function (blocks d/dx)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loss"

X_INNER = 0.8        # |x| beyond this is the absorbing layer
PML_WIDTH = 0.2
SIGMA_MAX = 40.0
WAVE_SPEED = 1.5


def damping_profile(x):
    depth = np.clip((np.abs(x) - X_INNER) / PML_WIDTH, 0.0, 1.0)
    return SIGMA_MAX * depth ** 2


@tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32)] * 4)
def program(x, u_t, u_tt, u_xx):
    """The original: TF code that leaves the graph."""
    sigma = tf.numpy_function(damping_profile, [x], tf.float32)
    sigma.set_shape([None, 1])
    residual = u_tt + sigma * u_t - WAVE_SPEED ** 2 * u_xx
    return tf.reduce_mean(tf.square(residual))


def reference(x, u_t, u_tt, u_xx):
    """Hand-written native TF: the best a human would write (differentiable in x)."""
    depth = tf.clip_by_value((tf.abs(x) - X_INNER) / PML_WIDTH, 0.0, 1.0)
    sigma = SIGMA_MAX * tf.square(depth)
    residual = u_tt + sigma * u_t - WAVE_SPEED ** 2 * u_xx
    return tf.reduce_mean(tf.square(residual))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 262144 collocation points."""
    rng = np.random.default_rng(31)
    n = 262_144
    x = rng.uniform(-1.0, 1.0, size=(n, 1))
    u_t, u_tt, u_xx = (rng.standard_normal((n, 1)) for _ in range(3))
    return tuple(a.astype(np.float32) for a in (x, u_t, u_tt, u_xx))
