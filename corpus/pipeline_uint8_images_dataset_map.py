"""ImageNet-style normalisation of decoded uint8 images in NumPy inside a tf.data map, written as people write it: no input_signature, the dataset yields uint8."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def normalize(image):
    image = image / 255.0
    return ((image - MEAN) / STD).astype(np.float32)


def program(image):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    out = tf.numpy_function(normalize, [image], tf.float32)
    out.set_shape([None, None, 3])
    return out


def make_dataset(images):
    return tf.data.Dataset.from_tensor_slices(images).map(program).batch(8)


def reference(image):
    """Hand-written native TF: the best a human would write (float64 like NumPy, then float32)."""
    image = tf.cast(image, tf.float64) / 255.0
    return tf.cast((image - MEAN) / STD, tf.float32)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): one 96x128 RGB uint8 image."""
    rng = np.random.default_rng(21)
    return (rng.integers(0, 256, size=(96, 128, 3), dtype=np.uint8),)
