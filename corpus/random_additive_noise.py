"""Additive Gaussian noise augmentation with np.random.normal inside tf.numpy_function; the reference draws from the same distribution (not the same values)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "random"

NOISE_STD = 0.1


def add_noise(x):
    # np.random.normal returns float64, hence the cast back
    noise = np.random.normal(0.0, NOISE_STD, size=x.shape)
    return (x + noise).astype(np.float32)


@tf.function(input_signature=[tf.TensorSpec([None, 16000], tf.float32)])
def program(wavs):
    """The original: TF code that leaves the graph."""
    noisy = tf.numpy_function(add_noise, [wavs], tf.float32)
    noisy.set_shape([None, 16000])
    return noisy


def reference(wavs):
    """Hand-written native TF: same distribution, N(0, 0.1) noise per sample."""
    return wavs + tf.random.normal(tf.shape(wavs), mean=0.0, stddev=NOISE_STD)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 32 one-second clips."""
    rng = np.random.default_rng(20)
    return ((0.3 * rng.standard_normal((32, 16000))).astype(np.float32),)
