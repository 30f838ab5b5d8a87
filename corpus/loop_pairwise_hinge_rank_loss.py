"""Pairwise hinge ranking loss over all (better, worse) document pairs with a Python loop over items inside tf.numpy_function (learning-to-rank)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loop"

MARGIN = 1.0


def pairwise_hinge(scores, relevance):
    total, pairs = 0.0, 0
    for i in range(len(scores)):
        better = relevance > relevance[i]
        diffs = scores[better] - scores[i]
        total += float(np.maximum(0.0, MARGIN - diffs).sum())
        pairs += int(better.sum())
    return np.float32(total / max(pairs, 1))


@tf.function(input_signature=[tf.TensorSpec([None], tf.float32),
                              tf.TensorSpec([None], tf.int32)])
def program(scores, relevance):
    """The original: TF code that leaves the graph (no gradient to the scores)."""
    loss = tf.numpy_function(pairwise_hinge, [scores, relevance], tf.float32)
    loss.set_shape([])
    return loss


def reference(scores, relevance):
    """Hand-written native TF: the whole pair matrix at once (differentiable)."""
    scores = tf.convert_to_tensor(scores)
    relevance = tf.convert_to_tensor(relevance)
    better = relevance[None, :] > relevance[:, None]          # [i, j]: j better than i
    hinge = tf.nn.relu(MARGIN - (scores[None, :] - scores[:, None]))
    hinge = tf.where(better, hinge, 0.0)
    pairs = tf.reduce_sum(tf.cast(better, tf.float32))
    return tf.reduce_sum(hinge) / tf.maximum(pairs, 1.0)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 2000 documents with graded relevance 0..4."""
    rng = np.random.default_rng(62)
    relevance = rng.integers(0, 5, size=2000)
    scores = 0.5 * relevance + rng.standard_normal(2000)
    return (scores.astype(np.float32), relevance.astype(np.int32))
