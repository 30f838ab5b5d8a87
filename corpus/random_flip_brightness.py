"""Random horizontal flip plus brightness jitter of a float image in tf.numpy_function, mapped over tf.data; the reference draws from the same distribution."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "random"

MAX_DELTA = 0.2


def augment(img):
    if np.random.rand() < 0.5:
        img = img[:, ::-1, :]
    delta = np.random.uniform(-MAX_DELTA, MAX_DELTA)   # a Python float: stays float32
    return np.clip(img + delta, 0.0, 1.0)


def program(image):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    out = tf.numpy_function(augment, [image], tf.float32)
    out.set_shape(image.shape)
    return out


def make_dataset(images, labels):
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    return ds.map(lambda x, y: (program(x), y)).batch(64)


def reference(image):
    """Hand-written native TF: flip with p=0.5, brightness delta ~ U(-0.2, 0.2), clip."""
    image = tf.image.random_flip_left_right(image)
    image = tf.image.random_brightness(image, MAX_DELTA)
    return tf.clip_by_value(image, 0.0, 1.0)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): a 384x384 RGB image in [0, 1]."""
    rng = np.random.default_rng(23)
    return (rng.random((384, 384, 3)).astype(np.float32),)
