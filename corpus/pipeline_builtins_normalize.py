"""Peak normalisation of decoded uint8 images with Python builtins in tf.numpy_function (len, max(image.shape[:2]), float(np.max(...)), abs, round), then a tf.py_function mask step guarded by hasattr(x, "numpy"); no signature, tf.data map."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

TARGET = 64


def normalize_image(image):
    rows = len(image)
    longest = max(image.shape[:2])
    peak = float(np.max(image))
    scaled = image / max(peak, 1.0)
    # the height this image gets when its longest side is resized to TARGET
    new_rows = round(rows * TARGET / longest)
    contrast = abs(float(scaled.max()) - float(scaled.min()))
    return (scaled * contrast * new_rows / TARGET).astype(np.float32)


def add_mask_channel(image):
    if hasattr(image, "numpy"):
        image = image.numpy()
    mask = (image.sum(axis=-1, keepdims=True) > 0).astype(np.float32)
    return np.concatenate([image, mask], axis=-1)


def program(image):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    scaled = tf.numpy_function(normalize_image, [image], tf.float32)
    out = tf.py_function(add_mask_channel, [scaled], tf.float32)
    out.set_shape([None, None, 4])
    return out


def make_dataset(images):
    return tf.data.Dataset.from_tensor_slices(images).map(program).batch(4)


def reference(image):
    """Hand-written native TF: the best a human would write (float64 like NumPy, then float32)."""
    shape = tf.shape(image)
    peak = tf.cast(tf.reduce_max(image), tf.float64)
    scaled = tf.cast(image, tf.float64) / tf.maximum(peak, 1.0)
    new_rows = tf.round(tf.cast(shape[0] * TARGET, tf.float64) / tf.cast(tf.reduce_max(shape[:2]), tf.float64))
    contrast = tf.abs(tf.reduce_max(scaled) - tf.reduce_min(scaled))
    x = tf.cast(scaled * contrast * new_rows / TARGET, tf.float32)
    mask = tf.cast(tf.reduce_sum(x, axis=-1, keepdims=True) > 0, tf.float32)
    return tf.concat([x, mask], axis=-1)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): one 48x80 RGB uint8 image
    with a black border (the mask marks it)."""
    rng = np.random.default_rng(31)
    image = rng.integers(10, 200, size=(48, 80, 3), dtype=np.uint8)
    image[:4] = 0
    return (image,)
