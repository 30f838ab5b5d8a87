"""Running (cumulative) maximum over time with a tf.range loop writing a TensorArray inside tf.function (envelope / drawdown tracking)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loop"


@tf.function(input_signature=[tf.TensorSpec([None, 512], tf.float32)])
def program(x):
    """The original: one while-loop iteration per time step."""
    steps = tf.shape(x)[0]
    out = tf.TensorArray(tf.float32, size=steps)
    running = x[0]
    for t in tf.range(steps):
        running = tf.maximum(running, x[t])
        out = out.write(t, running)
    return out.stack()


def reference(x):
    """Hand-written native TF: log2(T) doubling steps (TF has no cummax).

    After k steps every row holds the max over a window of 2**k steps.
    """
    x = tf.convert_to_tensor(x)
    steps = tf.shape(x)[0]
    shift = 1
    while shift < steps:
        shifted = tf.pad(x[:steps - shift], [[shift, 0], [0, 0]], constant_values=-np.inf)
        x = tf.maximum(x, tf.reshape(shifted, tf.shape(x)))
        shift *= 2
    return x


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 1024 steps x 512 series (random walks)."""
    rng = np.random.default_rng(63)
    return (np.cumsum(rng.standard_normal((1024, 512)), axis=0).astype(np.float32),)
