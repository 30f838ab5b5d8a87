"""Pad or crop a variable-length waveform to a fixed number of samples with np.pad, mapped over a tf.data pipeline of audio clips."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

SAMPLE_RATE = 16000
MAX_LEN = SAMPLE_RATE * 10


def pad_or_crop(wav):
    if len(wav) >= MAX_LEN:
        return wav[:MAX_LEN]
    return np.pad(wav, (0, MAX_LEN - len(wav)), mode="constant")


def program(wav):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    fixed = tf.numpy_function(pad_or_crop, [wav], tf.float32)
    fixed.set_shape([MAX_LEN])
    return fixed


def make_dataset(clips):
    """clips: a tf.RaggedTensor [n_clips, None] of float32 samples."""
    return (tf.data.Dataset.from_tensor_slices(clips)
            .map(program, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(8))


def reference(wav):
    """Hand-written native TF: the best a human would write."""
    wav = wav[:MAX_LEN]
    wav = tf.pad(wav, [[0, MAX_LEN - tf.shape(wav)[0]]])
    return tf.ensure_shape(wav, [MAX_LEN])


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): a 7.3 s clip."""
    rng = np.random.default_rng(3)
    wav = 0.1 * rng.standard_normal(int(7.3 * SAMPLE_RATE))
    return (wav.astype(np.float32),)
