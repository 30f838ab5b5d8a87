"""Per-example feature standardisation: a Python loop over the rows of a batch calls a module-level NumPy helper, inside tf.numpy_function (tabular / sensor pipelines)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loop"


def standardize(features):
    """Zero mean and unit variance for one example's features."""
    centered = features - features.mean()
    return centered / (features.std() + 1e-6)


def standardize_batch(batch):
    out = np.empty_like(batch)
    for i in range(len(batch)):
        out[i] = standardize(batch[i])
    return out


@tf.function
def program(batch):
    """The original: one NumPy call per example, outside the graph."""
    out = tf.numpy_function(standardize_batch, [batch], tf.float32)
    out.set_shape(batch.shape)
    return out


def reference(batch):
    """Hand-written native TF: the moments of every row at once."""
    batch = tf.convert_to_tensor(batch)
    mean, variance = tf.nn.moments(batch, axes=[-1], keepdims=True)
    return (batch - mean) / (tf.sqrt(variance) + 1e-6)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 256 examples x 64 features, quantised to 1/8 so sums are exact in any order."""
    rng = np.random.default_rng(71)
    return (np.round(rng.normal(3.0, 2.0, (256, 64)) * 8).astype(np.float32) / 8,)
