"""An ELU-like activation applied element by element with tf.map_fn and tf.cond over a flat vector of scalars."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "map_fn"

ALPHA = 1.7


def elu_one(v):
    return tf.cond(v > 0.0, lambda: v, lambda: ALPHA * (tf.exp(v) - 1.0))


@tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
def program(x):
    """The original: one while-loop iteration (and one cond) per scalar."""
    return tf.map_fn(elu_one, x)


def reference(x):
    """Hand-written native TF: tf.where over the whole vector.

    Uses expm1: inside tf.function Grappler's arithmetic optimizer rewrites
    exp(v) - 1.0 into expm1(v), so that is what the original really computes
    (an eager exp(v) - 1 differs by up to ~4e-5 relative for small |v|).
    Only non-positive values reach expm1, so the unused branch cannot
    overflow (an inf there would turn the gradient of tf.where into NaN).
    """
    neg = ALPHA * tf.math.expm1(tf.minimum(x, 0.0))
    return tf.where(x > 0.0, x, neg)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple)."""
    rng = np.random.default_rng(43)
    x = rng.standard_normal(16384) * 3.0
    x[:4] = [0.0, -0.0, 100.0, -100.0]
    return (x.astype(np.float32),)
