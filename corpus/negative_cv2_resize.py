"""BGR-to-RGB conversion and INTER_AREA downscaling with OpenCV inside tf.numpy_function: cv2 calls the rewriter must leave alone (cv2 is not installed here)."""
import cv2
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "left"
SHAPE = "negative"
RUNNABLE = False         # needs OpenCV

TARGET_H, TARGET_W = 240, 320


def preprocess(img_bgr):
    img = cv2.cvtColor(img_bgr, cv2.COLOR_BGR2RGB)
    img = cv2.resize(img, (TARGET_W, TARGET_H), interpolation=cv2.INTER_AREA)
    return img.astype(np.float32) / 255.0


def program(img_bgr):
    """The original: TF code that leaves the graph (a tf.data map function)."""
    img = tf.numpy_function(preprocess, [img_bgr], tf.float32)
    img.set_shape([TARGET_H, TARGET_W, 3])
    return img


def make_dataset(frames):
    return tf.data.Dataset.from_tensor_slices(frames).map(program).batch(32)


def reference(img_bgr):
    """Hand-written native TF, approximately equal (not verified against cv2).

    Channel flip, area resize, rounding back to uint8 like cv2 does; for an
    exact 2x downscale both average 2x2 blocks, but cv2's fixed-point
    rounding can differ by one grey level.
    """
    img = tf.reverse(img_bgr, axis=[-1])
    img = tf.image.resize(tf.cast(img, tf.float32), [TARGET_H, TARGET_W], method="area")
    img = tf.clip_by_value(tf.round(img), 0.0, 255.0)
    return img / 255.0


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): one 480x640 BGR frame."""
    rng = np.random.default_rng(81)
    return (rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8),)
