"""Pairwise IoU matrix between predicted and ground-truth boxes via NumPy broadcasting in tf.numpy_function (anchor matching / mAP evaluation)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "detection"


def iou_matrix(boxes_a, boxes_b):
    area_a = (boxes_a[:, 2] - boxes_a[:, 0]) * (boxes_a[:, 3] - boxes_a[:, 1])
    area_b = (boxes_b[:, 2] - boxes_b[:, 0]) * (boxes_b[:, 3] - boxes_b[:, 1])
    top_left = np.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    bottom_right = np.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    wh = np.clip(bottom_right - top_left, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)


@tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32),
                              tf.TensorSpec([None, 4], tf.float32)])
def program(boxes_a, boxes_b):
    """The original: TF code that leaves the graph."""
    iou = tf.numpy_function(iou_matrix, [boxes_a, boxes_b], tf.float32)
    iou.set_shape([None, None])
    return iou


def reference(boxes_a, boxes_b):
    """Hand-written native TF: the best a human would write."""
    boxes_a = tf.convert_to_tensor(boxes_a)
    boxes_b = tf.convert_to_tensor(boxes_b)
    area_a = (boxes_a[:, 2] - boxes_a[:, 0]) * (boxes_a[:, 3] - boxes_a[:, 1])
    area_b = (boxes_b[:, 2] - boxes_b[:, 0]) * (boxes_b[:, 3] - boxes_b[:, 1])
    top_left = tf.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    bottom_right = tf.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    wh = tf.maximum(bottom_right - top_left, 0.0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 1000 predictions x 500 ground truths."""
    rng = np.random.default_rng(71)

    def boxes(n):
        yx = rng.uniform(0, 0.8, size=(n, 2))
        hw = rng.uniform(0.02, 0.3, size=(n, 2))
        return np.concatenate([yx, yx + hw], axis=1).astype(np.float32)

    return (boxes(1000), boxes(500))
