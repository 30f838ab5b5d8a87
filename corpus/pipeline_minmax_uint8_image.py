"""Per-image min-max scaling of a uint8 image batch to float32 in [0, 1] inside tf.numpy_function (classic image-loader preprocessing)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

IMAGE_SIZE = 96


def minmax_scale(images):
    imgs = images.astype(np.float32)
    lo = imgs.min(axis=(1, 2, 3), keepdims=True)
    hi = imgs.max(axis=(1, 2, 3), keepdims=True)
    return (imgs - lo) / np.maximum(hi - lo, 1.0)


@tf.function(input_signature=[tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.uint8)])
def program(images):
    """The original: TF code that leaves the graph."""
    scaled = tf.numpy_function(minmax_scale, [images], tf.float32)
    scaled.set_shape([None, IMAGE_SIZE, IMAGE_SIZE, 3])
    return scaled


def reference(images):
    """Hand-written native TF: the best a human would write."""
    imgs = tf.cast(images, tf.float32)
    lo = tf.reduce_min(imgs, axis=[1, 2, 3], keepdims=True)
    hi = tf.reduce_max(imgs, axis=[1, 2, 3], keepdims=True)
    return (imgs - lo) / tf.maximum(hi - lo, 1.0)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple)."""
    rng = np.random.default_rng(1)
    # low-contrast images with different ranges, one of them constant
    base = rng.integers(20, 120, size=(32, 1, 1, 1))
    span = rng.integers(1, 130, size=(32, 1, 1, 1))
    imgs = base + rng.random((32, IMAGE_SIZE, IMAGE_SIZE, 3)) * span
    imgs[0] = 77
    return (imgs.astype(np.uint8),)
