"""Each box's share of the total box area, in NumPy on int32 pixel boxes inside tf.numpy_function, as people write it: no input_signature, boxes are ints."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "detection"


def area_share(boxes):
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return area / area.sum()


@tf.function
def program(boxes):
    """The original: TF code that leaves the graph."""
    share = tf.numpy_function(area_share, [boxes], tf.float64)
    share.set_shape([None])
    return share


def reference(boxes):
    """Hand-written native TF: the best a human would write (int areas, a float64 share)."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return tf.cast(area, tf.float64) / tf.cast(tf.reduce_sum(area), tf.float64)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 500 int32 boxes (x0, y0, x1, y1)."""
    rng = np.random.default_rng(24)
    corner = rng.integers(0, 400, size=(500, 2))
    size = rng.integers(1, 100, size=(500, 2))
    return (np.concatenate([corner, corner + size], axis=1).astype(np.int32),)
