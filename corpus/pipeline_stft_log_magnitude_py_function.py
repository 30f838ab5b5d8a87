"""Log-magnitude spectrogram of waveforms in a tf.data map: tf.signal.stft taken out with .numpy(), then np.abs and np.log inside tf.py_function (audio front end, no input_signature)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "py_function"

FRAME_LENGTH = 256
FRAME_STEP = 128


def log_magnitude(waveform):
    spec = tf.signal.stft(waveform, FRAME_LENGTH, FRAME_STEP).numpy()
    return np.log(np.abs(spec) + 1e-6).astype(np.float32)


def program(waveform):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    spec = tf.py_function(log_magnitude, [waveform], tf.float32)
    spec.set_shape([None, FRAME_LENGTH // 2 + 1])
    return spec


def make_dataset(waveforms):
    return tf.data.Dataset.from_tensor_slices(waveforms).map(program).batch(4)


def reference(waveform):
    """Hand-written native TF: the best a human would write."""
    spec = tf.signal.stft(waveform, FRAME_LENGTH, FRAME_STEP)
    return tf.math.log(tf.abs(spec) + 1e-6)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): one second of 16 kHz float32 audio."""
    rng = np.random.default_rng(49)
    t = np.arange(16000) / 16000.0
    waveform = 0.5 * np.sin(2 * np.pi * 440.0 * t) + 0.05 * rng.standard_normal(16000)
    return (waveform.astype(np.float32),)
