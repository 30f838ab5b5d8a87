"""Median-filter despiking of ECG batches with scipy.signal.medfilt inside tf.numpy_function: a SciPy call the rewriter must leave alone."""
import numpy as np
import scipy.signal
import tensorflow as tf

EXPECTED_STATUS = "left"
SHAPE = "negative"
RUNNABLE = False         # needs SciPy, which rewriter does not depend on

KERNEL = 5


def despike(ecg):
    return scipy.signal.medfilt(ecg, kernel_size=[1, KERNEL])


@tf.function(input_signature=[tf.TensorSpec([None, 5000], tf.float32)])
def program(ecg):
    """The original: TF code that leaves the graph."""
    clean = tf.numpy_function(despike, [ecg], tf.float32)
    clean.set_shape([None, 5000])
    return clean


def reference(ecg):
    """Hand-written native TF: zero-padded sliding windows, median = 3rd largest of 5."""
    half = KERNEL // 2
    padded = tf.pad(ecg, [[0, 0], [half, half]])
    windows = tf.signal.frame(padded, KERNEL, 1, axis=-1)      # [batch, time, KERNEL]
    return tf.math.top_k(windows, k=half + 1).values[..., half]


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 64 ten-second ECG-like traces at 500 Hz with spikes."""
    rng = np.random.default_rng(80)
    t = np.arange(5000) / 500.0
    ecg = np.sin(2 * np.pi * 1.2 * t) ** 15 + 0.05 * rng.standard_normal((64, 5000))
    spikes = rng.random((64, 5000)) < 0.005
    ecg[spikes] += rng.choice([-3.0, 3.0], size=int(spikes.sum()))
    return (ecg.astype(np.float32),)
