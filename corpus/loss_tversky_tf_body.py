"""A Keras-style Tversky segmentation loss written with Keras backend ops but wrapped in tf.numpy_function anyway (copied from a NumPy metric), so no gradient flows: no input_signature, masks arrive as float32."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import backend as K

EXPECTED_STATUS = "converted"
SHAPE = "loss"

ALPHA = 0.7
SMOOTH = 1.0


def tversky_index(y_true, y_pred):
    y_true_f = K.flatten(y_true)
    y_pred_f = K.flatten(y_pred)
    true_pos = K.sum(y_true_f * y_pred_f)
    false_neg = K.sum(y_true_f * (1 - y_pred_f))
    false_pos = K.sum((1 - y_true_f) * y_pred_f)
    index = (true_pos + SMOOTH) / (true_pos + ALPHA * false_neg + (1 - ALPHA) * false_pos + SMOOTH)
    return np.float32(1 - index)


def tversky_loss(y_true, y_pred):
    loss = tf.numpy_function(tversky_index, [y_true, y_pred], tf.float32)
    loss.set_shape([])
    return loss


@tf.function
def program(y_true, y_pred):
    """The original: TF code that leaves the graph (and blocks gradients)."""
    return tversky_loss(y_true, y_pred)


def reference(y_true, y_pred):
    """Hand-written native TF: the best a human would write (differentiable)."""
    y_true = tf.reshape(y_true, [-1])
    y_pred = tf.reshape(y_pred, [-1])
    true_pos = tf.reduce_sum(y_true * y_pred)
    false_neg = tf.reduce_sum(y_true * (1 - y_pred))
    false_pos = tf.reduce_sum((1 - y_true) * y_pred)
    return 1 - (true_pos + SMOOTH) / (true_pos + ALPHA * false_neg + (1 - ALPHA) * false_pos + SMOOTH)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): binary masks and sigmoid outputs."""
    rng = np.random.default_rng(48)
    y_true = (rng.random((4, 64, 64, 1)) > 0.7).astype(np.float32)
    y_pred = rng.random((4, 64, 64, 1)).astype(np.float32)
    return y_true, y_pred
