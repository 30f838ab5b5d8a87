"""Few-shot episode loss with a closed-form least-squares head W = pinv(S) Y (R2-D2 style), the pseudo-inverse taken by np.linalg.pinv in tf.numpy_function."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loss"

DIM = 64
WAYS = 5


@tf.function(input_signature=[tf.TensorSpec([None, DIM], tf.float64),
                              tf.TensorSpec([None, WAYS], tf.float64),
                              tf.TensorSpec([None, DIM], tf.float64),
                              tf.TensorSpec([None], tf.int32)])
def program(support, support_onehot, query, query_labels):
    """The original: TF code that leaves the graph (no gradient to the embeddings)."""
    s_pinv = tf.numpy_function(np.linalg.pinv, [support], tf.float64)
    s_pinv.set_shape([DIM, None])
    w = tf.matmul(s_pinv, support_onehot)
    logits = tf.matmul(query, w)
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=query_labels, logits=logits))


def reference(support, support_onehot, query, query_labels):
    """Hand-written native TF: the best a human would write (differentiable)."""
    w = tf.matmul(tf.linalg.pinv(support), support_onehot)
    logits = tf.matmul(query, w)
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=query_labels, logits=logits))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 5-way, 40-shot support, 4000 queries."""
    rng = np.random.default_rng(33)
    centers = rng.standard_normal((WAYS, DIM))
    s_lab = np.repeat(np.arange(WAYS), 40)
    q_lab = rng.integers(0, WAYS, size=4000)
    support = centers[s_lab] + 0.8 * rng.standard_normal((s_lab.size, DIM))
    query = centers[q_lab] + 0.8 * rng.standard_normal((q_lab.size, DIM))
    return (support, np.eye(WAYS)[s_lab], query, q_lab.astype(np.int32))
