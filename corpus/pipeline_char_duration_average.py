"""FastSpeech2-style averaging of frame-level pitch over per-character durations (ignoring unvoiced zeros), mapped over utterances with tf.numpy_function."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"


def average_by_duration(values, durations):
    ids = np.repeat(np.arange(len(durations)), durations)
    voiced = (values != 0).astype(np.float64)
    # bincount with weights always accumulates (and returns) float64
    sums = np.bincount(ids, weights=values * voiced, minlength=len(durations))
    counts = np.bincount(ids, weights=voiced, minlength=len(durations))
    avg = np.where(counts > 0, sums / np.maximum(counts, 1.0), 0.0)
    return avg.astype(np.float32)


def program(pitch, durations):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    char_pitch = tf.numpy_function(average_by_duration, [pitch, durations], tf.float32)
    char_pitch.set_shape(durations.shape)
    return char_pitch


def make_dataset(pitch, durations):
    """pitch, durations: tf.RaggedTensor [n_utts, None] (frames / characters)."""
    ds = tf.data.Dataset.from_tensor_slices((pitch, durations))
    return ds.map(lambda p, d: (p, d, program(p, d)))


def reference(pitch, durations):
    """Hand-written native TF: the best a human would write."""
    pitch = tf.convert_to_tensor(pitch)
    n = tf.shape(durations)[0]
    ids = tf.repeat(tf.range(n), durations)
    voiced = tf.cast(pitch != 0, tf.float32)
    sums = tf.math.unsorted_segment_sum(pitch * voiced, ids, n)
    counts = tf.math.unsorted_segment_sum(voiced, ids, n)
    return tf.math.divide_no_nan(sums, counts)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple); durations sum to len(pitch)."""
    rng = np.random.default_rng(6)
    durations = rng.integers(0, 13, size=20_000).astype(np.int32)
    n_frames = int(durations.sum())
    pitch = rng.uniform(80.0, 300.0, size=n_frames)
    pitch[rng.random(n_frames) < 0.3] = 0.0
    return (pitch.astype(np.float32), durations)
