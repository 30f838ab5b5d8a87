"""Temperature softmax over class logits computed in NumPy through a lambda passed to tf.numpy_function (distillation / sampling code)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"


def softmax(logits, temperature=1.0):
    z = logits / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@tf.function(input_signature=[tf.TensorSpec([None, 1000], tf.float32)])
def program(logits):
    """The original: TF code that leaves the graph."""
    probs = tf.numpy_function(lambda z: softmax(z, temperature=0.7), [logits], tf.float32)
    probs.set_shape(logits.shape)
    return probs


def reference(logits):
    """Hand-written native TF: the best a human would write."""
    return tf.nn.softmax(logits / 0.7, axis=-1)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple)."""
    rng = np.random.default_rng(9)
    return ((3.0 * rng.standard_normal((512, 1000))).astype(np.float32),)
