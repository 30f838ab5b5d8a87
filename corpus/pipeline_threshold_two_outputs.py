"""Binarise probability maps and count foreground pixels (two outputs) via a class whose __call__ wraps self._np_step in tf.numpy_function."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"


class Binarizer:
    def __init__(self, threshold=0.5):
        self.threshold = threshold

    def _np_step(self, prob_maps):
        mask = prob_maps > self.threshold
        # bool .sum() counts in int64
        return mask.astype(np.uint8), mask.sum(axis=(1, 2))

    def __call__(self, prob_maps):
        mask, area = tf.numpy_function(self._np_step, [prob_maps], [tf.uint8, tf.int64])
        mask.set_shape(prob_maps.shape)
        area.set_shape(prob_maps.shape[:1])
        return mask, area


binarize = Binarizer(threshold=0.5)


@tf.function(input_signature=[tf.TensorSpec([None, 128, 128], tf.float32)])
def program(prob_maps):
    """The original: TF code that leaves the graph."""
    return binarize(prob_maps)


def reference(prob_maps):
    """Hand-written native TF: the best a human would write."""
    mask = prob_maps > 0.5
    return tf.cast(mask, tf.uint8), tf.reduce_sum(tf.cast(mask, tf.int64), axis=[1, 2])


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple)."""
    rng = np.random.default_rng(11)
    p = rng.beta(0.5, 0.8, size=(64, 128, 128))
    p[0, :4, :4] = 0.5                      # exactly on the threshold: not foreground
    return (p.astype(np.float32),)
