"""Random crop of a decoded image with np.random.randint offsets in tf.numpy_function, mapped over tf.data; the reference draws crops from the same (uniform) distribution."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "random"

CROP = 224


def random_crop(img):
    h, w = img.shape[:2]
    top = np.random.randint(0, h - CROP + 1)
    left = np.random.randint(0, w - CROP + 1)
    return img[top:top + CROP, left:left + CROP]


def program(image):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    out = tf.numpy_function(random_crop, [image], tf.uint8)
    out.set_shape([CROP, CROP, 3])
    return out


def make_dataset(images):
    return (tf.data.Dataset.from_tensor_slices(images)
            .shuffle(256)
            .map(program, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(32))


def reference(image):
    """Hand-written native TF: uniform crop offsets, like the original."""
    return tf.image.random_crop(image, [CROP, CROP, 3])


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): a 375x500 image."""
    rng = np.random.default_rng(21)
    return (rng.integers(0, 256, size=(375, 500, 3), dtype=np.uint8),)
