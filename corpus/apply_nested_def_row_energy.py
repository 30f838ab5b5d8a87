"""Per-frame log energy of int16 PCM frames in a tf.data map, as voice-activity code is written: the NumPy body defines a per-frame helper that np.apply_along_axis runs and a closure gating at the clip's noise floor (no input_signature, the decoder yields int16)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "apply_along_axis"

FRAME = 400  # 25 ms at 16 kHz
FLOOR_RATIO = 1e-4


def frame_log_energy(frames):
    x = frames.astype(np.float32) / 32768.0

    def energy(row):
        return np.mean(row ** 2)

    energies = np.apply_along_axis(energy, 1, x)
    floor = energies.max() * FLOOR_RATIO + 1e-10

    def gate(e):
        return np.maximum(e, floor)

    return np.log(gate(energies))


def program(frames):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    out = tf.numpy_function(frame_log_energy, [frames], tf.float32)
    out.set_shape([None])
    return out


def make_dataset(clips):
    return tf.data.Dataset.from_tensor_slices(clips).map(program).batch(4)


def reference(frames):
    """Hand-written native TF: the best a human would write."""
    x = tf.cast(frames, tf.float32) / 32768.0
    energies = tf.reduce_mean(tf.square(x), axis=-1)
    floor = tf.reduce_max(energies) * FLOOR_RATIO + 1e-10
    return tf.math.log(tf.maximum(energies, floor))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): one clip of 120 frames of int16 PCM, speech bursts over quiet noise."""
    rng = np.random.default_rng(61)
    loudness = np.where(rng.random((120, 1)) < 0.4, 8000.0, 40.0)
    pcm = rng.standard_normal((120, FRAME)) * loudness
    return (np.clip(pcm, -32768, 32767).astype(np.int16),)
