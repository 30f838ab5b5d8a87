"""Per-frame log-magnitude features of int16 PCM frames, built in a loop with `append` and `np.array(feats, dtype=np.float32)` inside tf.numpy_function in a Dataset.map, as feature-extraction scripts write it."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

FRAME_LENGTH = 400


def frame_features(frames):
    """frames: (n_frames, FRAME_LENGTH) int16 PCM; one feature row per frame."""
    window = np.hanning(FRAME_LENGTH)
    samples = frames.astype(np.float64) / 32768.0
    feats = []
    for frame in samples:
        centred = frame - frame.mean()
        feats.append(np.log1p(100.0 * np.abs(centred * window)))
    return np.array(feats, dtype=np.float32)


def program(frames):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    feats = tf.numpy_function(frame_features, [frames], tf.float32)
    feats.set_shape([None, FRAME_LENGTH])
    return feats


def make_dataset(clips):
    ds = tf.data.Dataset.from_tensor_slices(clips)
    return ds.map(program).batch(2)


def reference(frames):
    """Hand-written native TF: the best a human would write."""
    samples = tf.cast(frames, tf.float64) / 32768.0
    centred = samples - tf.reduce_mean(samples, axis=-1, keepdims=True)
    window = tf.constant(np.hanning(FRAME_LENGTH))
    return tf.cast(tf.math.log1p(100.0 * tf.abs(centred * window)), tf.float32)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 50 frames of int16 PCM."""
    rng = np.random.default_rng(31)
    return (rng.integers(-32768, 32768, size=(50, FRAME_LENGTH)).astype(np.int16),)
