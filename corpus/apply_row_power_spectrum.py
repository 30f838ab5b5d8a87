"""Per-row Hann-windowed power spectrum with np.apply_along_axis and numpy.fft (imported as nf) inside tf.numpy_function, on float64 sensor windows."""
import numpy as np
import numpy.fft as nf
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "apply_along_axis"

WINDOW = 1024


def power_spectrum(row):
    return np.abs(nf.rfft(row * np.hanning(row.size))) ** 2


def batch_power_spectrum(x):
    return np.apply_along_axis(power_spectrum, -1, x)


@tf.function(input_signature=[tf.TensorSpec([None, WINDOW], tf.float64)])
def program(x):
    """The original: one Python call per row inside NumPy."""
    p = tf.numpy_function(batch_power_spectrum, [x], tf.float64)
    p.set_shape([None, WINDOW // 2 + 1])
    return p


def reference(x):
    """Hand-written native TF: batched rfft over the last axis."""
    x = tf.convert_to_tensor(x, tf.float64)
    window = tf.signal.hann_window(WINDOW, periodic=False, dtype=tf.float64)
    return tf.square(tf.abs(tf.signal.rfft(x * window)))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 512 vibration windows."""
    rng = np.random.default_rng(51)
    t = np.arange(WINDOW) / 2048.0
    f = rng.uniform(10, 900, size=(512, 1))
    x = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(2 * np.pi * 3 * f * t) + 0.1 * rng.standard_normal((512, WINDOW))
    return (x,)
