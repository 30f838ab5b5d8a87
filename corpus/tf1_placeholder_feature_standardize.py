"""TF1-era feature standardisation: a float32 placeholder fed through tf.compat.v1.py_func and run with Session.run (graph-mode code people still maintain)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "tf1"

N_FEATURES = 40


def _standardize(x):
    mean = x.mean(axis=1, keepdims=True)
    std = x.std(axis=1, keepdims=True)
    return ((x - mean) / (std + 1e-6)).astype(np.float32)


def build_graph():
    """Builds the graph into the default graph: (placeholders, output)."""
    features = tf.compat.v1.placeholder(tf.float32, shape=[None, N_FEATURES], name="features")
    normalized = tf.compat.v1.py_func(_standardize, [features], tf.float32)
    return [features], normalized


_SESSIONS = {}


def _run(build, inputs):
    """Build once, then Session.run per call, as a TF1 serving loop does."""
    if build not in _SESSIONS:
        graph = tf.Graph()
        with graph.as_default():
            placeholders, output = build()
        _SESSIONS[build] = (tf.compat.v1.Session(graph=graph), placeholders, output)
    session, placeholders, output = _SESSIONS[build]
    return session.run(output, feed_dict={p: np.asarray(v) for p, v in zip(placeholders, inputs)})


def program(features):
    """The original: a graph whose py_func leaves it on every Session.run."""
    return _run(build_graph, [features])


def _reference_graph():
    features = tf.compat.v1.placeholder(tf.float32, shape=[None, N_FEATURES], name="features")
    mean, variance = tf.nn.moments(features, axes=[1], keepdims=True)
    return [features], (features - mean) / (tf.sqrt(variance) + 1e-6)


def reference(features):
    """Hand-written native TF in the same graph-and-session form."""
    return _run(_reference_graph, [features])


def sample_inputs():
    """Deterministic inputs: 64 frames of 40 features, quantised so sums are exact in float32."""
    rng = np.random.default_rng(41)
    return (np.round(rng.normal(size=(64, N_FEATURES)) * 64.0).astype(np.float32) / 64.0,)
