"""RGBA image preparation in NumPy inside a tf.data map, updating the numpy_function's own input in place (colour channels to [0, 1], faint values to zero); no input_signature."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

THRESHOLD = 0.02


def scale_channels(image):
    image[..., :3] /= 255.0
    image[image < THRESHOLD] = 0
    return image


def program(image):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    image = tf.cast(image, tf.float32)
    out = tf.numpy_function(scale_channels, [image], tf.float32)
    out.set_shape([None, None, 4])
    return out


def make_dataset(images):
    return tf.data.Dataset.from_tensor_slices(images).map(program).batch(8)


def reference(image):
    """Hand-written native TF: the best a human would write."""
    image = tf.cast(image, tf.float32)
    image = tf.concat([image[..., :3] / 255.0, image[..., 3:]], axis=-1)
    return tf.where(image < THRESHOLD, 0.0, image)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): one 64x96 RGBA uint8 image."""
    rng = np.random.default_rng(34)
    return (rng.integers(0, 256, size=(64, 96, 4), dtype=np.uint8),)
