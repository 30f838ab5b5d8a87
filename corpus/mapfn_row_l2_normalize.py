"""L2-normalise embedding rows one at a time with tf.map_fn (retrieval / metric-learning code); the reference normalises the whole batch at once."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "map_fn"


@tf.function(input_signature=[tf.TensorSpec([None, 256], tf.float32)])
def program(embeddings):
    """The original: one while-loop iteration per row."""
    return tf.map_fn(lambda row: row / tf.maximum(tf.norm(row), 1e-12), embeddings)


def reference(embeddings):
    """Hand-written native TF: the best a human would write."""
    norms = tf.norm(embeddings, axis=1, keepdims=True)
    return embeddings / tf.maximum(norms, 1e-12)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple)."""
    rng = np.random.default_rng(40)
    emb = rng.standard_normal((2048, 256)) * rng.uniform(0.1, 10.0, size=(2048, 1))
    emb[5] = 0.0                                   # an all-zero row stays zero
    return (emb.astype(np.float32),)
