"""Hann-windowed FFT magnitude of float64 audio frames with numpy.fft.rfft inside tf.numpy_function (hand-rolled spectrogram front end)."""
import numpy as np
from numpy import fft
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

FRAME = 512


def magnitude_spectrum(frames):
    window = np.hanning(frames.shape[-1])
    spec = fft.rfft(frames * window, axis=-1)
    return np.abs(spec)


@tf.function(input_signature=[tf.TensorSpec([None, FRAME], tf.float64)])
def program(frames):
    """The original: TF code that leaves the graph."""
    mag = tf.numpy_function(magnitude_spectrum, [frames], tf.float64)
    mag.set_shape([None, FRAME // 2 + 1])
    return mag


def reference(frames):
    """Hand-written native TF: the best a human would write.

    np.hanning is the symmetric window (periodic=False).  The input must be
    a float64 *tensor*: tf.signal.rfft silently converts a float64 NumPy
    array to float32.
    """
    frames = tf.convert_to_tensor(frames, tf.float64)
    window = tf.signal.hann_window(FRAME, periodic=False, dtype=tf.float64)
    return tf.abs(tf.signal.rfft(frames * window))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): float64 frames, as soundfile.read returns."""
    rng = np.random.default_rng(5)
    t = np.arange(FRAME) / 16000.0
    freqs = rng.uniform(100, 4000, size=(512, 1))
    frames = 0.5 * np.sin(2 * np.pi * freqs * t) + 0.05 * rng.standard_normal((512, FRAME))
    return (frames,)
