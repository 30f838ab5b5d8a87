"""SpecAugment-style random time and frequency masking of a batch of log-mel spectrograms with a NumPy Generator in tf.numpy_function; the reference draws masks from the same distribution."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "random"

MAX_TIME_MASK = 100
MAX_FREQ_MASK = 27
RNG = np.random.default_rng()


def spec_augment(spec):
    spec = spec.copy()
    batch, n_time, n_freq = spec.shape
    for i in range(batch):
        w = RNG.integers(0, MAX_TIME_MASK + 1)
        t0 = RNG.integers(0, n_time - w + 1)
        spec[i, t0:t0 + w, :] = 0.0
        w = RNG.integers(0, MAX_FREQ_MASK + 1)
        f0 = RNG.integers(0, n_freq - w + 1)
        spec[i, :, f0:f0 + w] = 0.0
    return spec


@tf.function(input_signature=[tf.TensorSpec([None, None, 80], tf.float32)])
def program(spec):
    """The original: TF code that leaves the graph."""
    out = tf.numpy_function(spec_augment, [spec], tf.float32)
    out.set_shape(spec.shape)
    return out


def _band_mask(batch, length, max_width):
    """[batch, length] bool, True inside one band of uniform width in [0, max_width] at a uniform start."""
    width = tf.random.uniform([batch], 0, max_width + 1, dtype=tf.int32)
    start = tf.cast(tf.floor(tf.random.uniform([batch]) * tf.cast(length - width + 1, tf.float32)), tf.int32)
    pos = tf.range(length)[None, :]
    return (pos >= start[:, None]) & (pos < (start + width)[:, None])


def reference(spec):
    """Hand-written native TF: vectorised masks, same distribution as the loop."""
    spec = tf.convert_to_tensor(spec)
    shape = tf.shape(spec)
    time_mask = _band_mask(shape[0], shape[1], MAX_TIME_MASK)
    freq_mask = _band_mask(shape[0], shape[2], MAX_FREQ_MASK)
    masked = time_mask[:, :, None] | freq_mask[:, None, :]
    return tf.where(masked, tf.zeros_like(spec), spec)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 16 utterances of 1000 frames x 80 mels."""
    rng = np.random.default_rng(22)
    return ((rng.standard_normal((16, 1000, 80)) - 4.0).astype(np.float32),)
