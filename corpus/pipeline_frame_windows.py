"""Split a waveform into overlapping Hann-windowed frames with sliding_window_view inside tf.numpy_function (STFT front end)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

FRAME = 400
HOP = 160


def frame_signal(wav):
    frames = np.lib.stride_tricks.sliding_window_view(wav, FRAME)[::HOP]
    # np.hanning is float64, so the product is float64 until the cast
    return (frames * np.hanning(FRAME)).astype(np.float32)


@tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
def program(wav):
    """The original: TF code that leaves the graph."""
    frames = tf.numpy_function(frame_signal, [wav], tf.float32)
    frames.set_shape([None, FRAME])
    return frames


def reference(wav):
    """Hand-written native TF: the best a human would write.

    The symmetric window is built in float64 and rounded once: a float32
    tf.signal.hann_window is off by up to ~5e-4 relative near the edges.
    """
    window = tf.cast(tf.signal.hann_window(FRAME, periodic=False, dtype=tf.float64), tf.float32)
    return tf.signal.frame(wav, FRAME, HOP) * window


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 30 s at 16 kHz."""
    rng = np.random.default_rng(8)
    return ((0.1 * rng.standard_normal(16000 * 30)).astype(np.float32),)
