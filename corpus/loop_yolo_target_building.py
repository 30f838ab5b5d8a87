"""YOLO-style grid target building: a Python loop over every ground-truth box writes into a NumPy target array inside tf.numpy_function."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loop"

GRID = 13
NUM_CLASSES = 20


def build_targets(boxes):
    """boxes: [batch, max_boxes, 5] rows of (class, cx, cy, w, h) in [0, 1]; w == 0 marks padding."""
    batch = boxes.shape[0]
    target = np.zeros((batch, GRID, GRID, 5 + NUM_CLASSES), dtype=np.float32)
    for b in range(batch):
        for cls, cx, cy, w, h in boxes[b]:
            if w <= 0:
                continue
            col = min(int(cx * GRID), GRID - 1)
            row = min(int(cy * GRID), GRID - 1)
            target[b, row, col, 0] = 1.0
            target[b, row, col, 1:5] = [cx * GRID - col, cy * GRID - row, w, h]
            target[b, row, col, 5 + int(cls)] = 1.0
    return target


@tf.function
def program(boxes):
    """The original: TF code that leaves the graph."""
    target = tf.numpy_function(build_targets, [boxes], tf.float32)
    target.set_shape([None, GRID, GRID, 5 + NUM_CLASSES])
    return target


def reference(boxes):
    """Hand-written native TF: one scatter for all boxes.

    Assumes at most one box per cell (tf.scatter_nd adds duplicates, the
    loop overwrites them: last box wins for the coordinates, classes pile up).
    """
    boxes = tf.convert_to_tensor(boxes)
    cls, cx, cy, w, h = tf.unstack(boxes, axis=-1)
    col = tf.minimum(tf.cast(cx * GRID, tf.int32), GRID - 1)
    row = tf.minimum(tf.cast(cy * GRID, tf.int32), GRID - 1)
    batch_idx = tf.broadcast_to(tf.range(tf.shape(boxes)[0])[:, None], tf.shape(col))
    values = tf.concat([
        tf.ones_like(cx)[..., None],
        tf.stack([cx * GRID - tf.cast(col, tf.float32), cy * GRID - tf.cast(row, tf.float32), w, h], -1),
        tf.one_hot(tf.cast(cls, tf.int32), NUM_CLASSES),
    ], axis=-1)
    valid = w > 0
    indices = tf.boolean_mask(tf.stack([batch_idx, row, col], -1), valid)
    values = tf.boolean_mask(values, valid)
    shape = tf.stack([tf.shape(boxes)[0], GRID, GRID, 5 + NUM_CLASSES])
    return tf.scatter_nd(indices, values, shape)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 64 images, up to 40 boxes each, one box per cell."""
    rng = np.random.default_rng(60)
    batch, max_boxes = 64, 40
    boxes = np.zeros((batch, max_boxes, 5))
    for b in range(batch):
        n = int(rng.integers(5, max_boxes + 1))
        cells = rng.choice(GRID * GRID, size=n, replace=False)
        row, col = cells // GRID, cells % GRID
        boxes[b, :n, 0] = rng.integers(0, NUM_CLASSES, n)
        boxes[b, :n, 1] = (col + rng.uniform(0.05, 0.95, n)) / GRID
        boxes[b, :n, 2] = (row + rng.uniform(0.05, 0.95, n)) / GRID
        boxes[b, :n, 3] = rng.uniform(0.02, 0.6, n)
        boxes[b, :n, 4] = rng.uniform(0.02, 0.6, n)
    return (boxes.astype(np.float32),)
