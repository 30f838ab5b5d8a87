"""Joint min-max scaling of a feature pair inside tf.numpy_function whose Tout is read from the input (`dtype = feats.dtype`, then `[dtype] * 2`), so float32 and float64 features both pass through; no signature, tf.data map."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"


def joint_minmax(feats, deltas):
    lo, hi = feats.min(), feats.max()
    span = max(hi - lo, 1e-8)
    return (feats - lo) / span, deltas / span


def program(feats, deltas):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    dtype = feats.dtype
    scaled, scaled_deltas = tf.numpy_function(joint_minmax, [feats, deltas], [dtype] * 2)
    scaled.set_shape(feats.shape)
    scaled_deltas.set_shape(deltas.shape)
    return scaled, scaled_deltas


def make_dataset(feats, deltas):
    return tf.data.Dataset.from_tensor_slices((feats, deltas)).map(program).batch(4)


def reference(feats, deltas):
    """Hand-written native TF: the best a human would write."""
    lo, hi = tf.reduce_min(feats), tf.reduce_max(feats)
    span = tf.maximum(hi - lo, 1e-8)
    return (feats - lo) / span, deltas / span


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 200 frames of 40 float32
    log-mel features and their deltas (the pipeline also feeds float64 ones)."""
    rng = np.random.default_rng(63)
    feats = rng.standard_normal((200, 40)) * 4.0 + 10.0
    deltas = np.diff(feats, axis=0, prepend=feats[:1])
    return (feats.astype(np.float32), deltas.astype(np.float32))
