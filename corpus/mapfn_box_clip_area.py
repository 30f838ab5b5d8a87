"""Clip detection boxes to the image and compute their areas box by box with tf.map_fn and a tuple fn_output_signature."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "map_fn"

IMG_H, IMG_W = 600.0, 800.0


def clip_box(box):
    ymin = tf.clip_by_value(box[0], 0.0, IMG_H)
    xmin = tf.clip_by_value(box[1], 0.0, IMG_W)
    ymax = tf.clip_by_value(box[2], 0.0, IMG_H)
    xmax = tf.clip_by_value(box[3], 0.0, IMG_W)
    area = tf.maximum(ymax - ymin, 0.0) * tf.maximum(xmax - xmin, 0.0)
    return tf.stack([ymin, xmin, ymax, xmax]), area


@tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
def program(boxes):
    """The original: one while-loop iteration per box."""
    clipped, areas = tf.map_fn(
        clip_box, boxes,
        fn_output_signature=(tf.TensorSpec([4], tf.float32), tf.TensorSpec([], tf.float32)))
    return clipped, areas


def reference(boxes):
    """Hand-written native TF: the best a human would write."""
    clipped = tf.clip_by_value(boxes, 0.0, [IMG_H, IMG_W, IMG_H, IMG_W])
    ymin, xmin, ymax, xmax = tf.unstack(clipped, axis=1)
    areas = tf.maximum(ymax - ymin, 0.0) * tf.maximum(xmax - xmin, 0.0)
    return clipped, areas


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 8192 boxes, some outside the image."""
    rng = np.random.default_rng(41)
    n = 8192
    cy = rng.uniform(-50, IMG_H + 50, n)
    cx = rng.uniform(-50, IMG_W + 50, n)
    h = rng.uniform(5, 300, n)
    w = rng.uniform(5, 300, n)
    boxes = np.stack([cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2], axis=1)
    return (boxes.astype(np.float32),)
