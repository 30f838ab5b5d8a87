"""int16 PCM scaled to float and pre-emphasised in NumPy inside tf.numpy_function, as people write it: no input_signature, the decoder yields int16."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

COEFFICIENT = 0.97


def preemphasis(pcm):
    x = pcm.astype(np.float32) / 32768.0
    return np.concatenate([x[:1], x[1:] - COEFFICIENT * x[:-1]])


@tf.function
def program(pcm):
    """The original: TF code that leaves the graph."""
    out = tf.numpy_function(preemphasis, [pcm], tf.float32)
    out.set_shape([None])
    return out


def reference(pcm):
    """Hand-written native TF: the best a human would write."""
    x = tf.cast(pcm, tf.float32) / 32768.0
    return tf.concat([x[:1], x[1:] - COEFFICIENT * x[:-1]], 0)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): one second of 16 kHz int16 PCM."""
    rng = np.random.default_rng(23)
    return (rng.integers(-32768, 32768, size=16000).astype(np.int16),)
