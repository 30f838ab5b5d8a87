"""tf.image.per_image_standardization applied image by image with tf.map_fn, although the op already handles a batch."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "map_fn"


@tf.function(input_signature=[tf.TensorSpec([None, 64, 64, 3], tf.uint8)])
def program(images):
    """The original: one while-loop iteration per image."""
    return tf.map_fn(tf.image.per_image_standardization, images,
                     fn_output_signature=tf.float32)


def reference(images):
    """Hand-written native TF: the batched op."""
    return tf.image.per_image_standardization(images)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple); image 0 is constant."""
    rng = np.random.default_rng(42)
    imgs = rng.integers(0, 256, size=(256, 64, 64, 3))
    imgs[0] = 128
    return (imgs.astype(np.uint8),)
