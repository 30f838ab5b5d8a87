"""Decode SSD/Faster R-CNN box regressions (dy, dx, dh, dw) against anchors with variances and a dh/dw clamp, in tf.numpy_function before NMS."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "detection"

VARIANCES = (0.1, 0.1, 0.2, 0.2)
BBOX_XFORM_CLIP = np.log(1000.0 / 16.0)


def decode_boxes(deltas, anchors):
    """deltas: [N, 4] (dy, dx, dh, dw); anchors: [N, 4] (ymin, xmin, ymax, xmax), normalised."""
    ha = anchors[:, 2] - anchors[:, 0]
    wa = anchors[:, 3] - anchors[:, 1]
    cya = anchors[:, 0] + 0.5 * ha
    cxa = anchors[:, 1] + 0.5 * wa
    # multiplying by a tuple of Python floats makes a float64 array: the
    # decode below runs in float64 and is cast back at the end
    dy, dx, dh, dw = (deltas * VARIANCES).T
    dh = np.minimum(dh, BBOX_XFORM_CLIP)
    dw = np.minimum(dw, BBOX_XFORM_CLIP)
    cy = dy * ha + cya
    cx = dx * wa + cxa
    h = np.exp(dh) * ha
    w = np.exp(dw) * wa
    boxes = np.stack([cy - 0.5 * h, cx - 0.5 * w, cy + 0.5 * h, cx + 0.5 * w], axis=-1)
    return np.clip(boxes, 0.0, 1.0).astype(np.float32)


@tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32),
                              tf.TensorSpec([None, 4], tf.float32)])
def program(deltas, anchors):
    """The original: TF code that leaves the graph."""
    boxes = tf.numpy_function(decode_boxes, [deltas, anchors], tf.float32)
    boxes.set_shape([None, 4])
    return boxes


def reference(deltas, anchors):
    """Hand-written native TF: same decode, with the NumPy code's dtypes.

    A float32 decode is not equivalent: cy - h/2 cancels for boxes touching
    the image border and float32 rounding then shows up at ~1e-4 relative.
    """
    # anchor geometry stays float32 in the NumPy code (only the deltas were
    # promoted), so compute it in float32 and widen afterwards
    ymin_a, xmin_a, ymax_a, xmax_a = tf.unstack(tf.convert_to_tensor(anchors), axis=1)
    ha, wa = ymax_a - ymin_a, xmax_a - xmin_a
    cya, cxa = ymin_a + 0.5 * ha, xmin_a + 0.5 * wa
    ha, wa, cya, cxa = (tf.cast(v, tf.float64) for v in (ha, wa, cya, cxa))
    deltas = tf.cast(deltas, tf.float64) * tf.constant(VARIANCES, tf.float64)
    dy, dx, dh, dw = tf.unstack(deltas, axis=1)
    dh = tf.minimum(dh, BBOX_XFORM_CLIP)
    dw = tf.minimum(dw, BBOX_XFORM_CLIP)
    cy, cx = dy * ha + cya, dx * wa + cxa
    h, w = tf.exp(dh) * ha, tf.exp(dw) * wa
    boxes = tf.stack([cy - 0.5 * h, cx - 0.5 * w, cy + 0.5 * h, cx + 0.5 * w], axis=-1)
    return tf.cast(tf.clip_by_value(boxes, 0.0, 1.0), tf.float32)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 64x64 grid x 9 anchors."""
    rng = np.random.default_rng(70)
    centers = (np.arange(64) + 0.5) / 64.0
    cy, cx = np.meshgrid(centers, centers, indexing="ij")
    sizes = np.array([0.05, 0.1, 0.2])
    ratios = np.array([0.5, 1.0, 2.0])
    hs = (sizes[:, None] * np.sqrt(ratios)[None, :]).ravel()
    ws = (sizes[:, None] / np.sqrt(ratios)[None, :]).ravel()
    cy = np.repeat(cy.ravel(), 9)
    cx = np.repeat(cx.ravel(), 9)
    hs = np.tile(hs, 64 * 64)
    ws = np.tile(ws, 64 * 64)
    anchors = np.stack([cy - hs / 2, cx - ws / 2, cy + hs / 2, cx + ws / 2], axis=1)
    deltas = rng.standard_normal(anchors.shape) * 2.0
    deltas[:50, 2:] = 40.0                         # hits the dh/dw clamp
    return (deltas.astype(np.float32), anchors.astype(np.float32))
