"""Centre crop of decoded uint8 images to a fixed square with a functools.partial target of tf.numpy_function, mapped over a tf.data pipeline."""
import functools

import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

CROP = 384


def center_crop(image, size):
    h, w = image.shape[:2]
    top = (h - size) // 2
    left = (w - size) // 2
    return image[top:top + size, left:left + size]


def program(image):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    crop = tf.numpy_function(functools.partial(center_crop, size=CROP), [image], tf.uint8)
    crop.set_shape([CROP, CROP, 3])
    return crop


def make_dataset(jpeg_bytes):
    ds = tf.data.Dataset.from_tensor_slices(jpeg_bytes)
    ds = ds.map(lambda b: tf.io.decode_jpeg(b, channels=3))
    return ds.map(program).batch(16)


def reference(image):
    """Hand-written native TF: the best a human would write."""
    shape = tf.shape(image)
    top = (shape[0] - CROP) // 2
    left = (shape[1] - CROP) // 2
    return tf.image.crop_to_bounding_box(image, top, left, CROP, CROP)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): a 481x641 image (odd margins)."""
    rng = np.random.default_rng(13)
    return (rng.integers(0, 256, size=(481, 641, 3), dtype=np.uint8),)
