"""TF1 speech front end written against `tensorflow.compat.v1`: int16 PCM frames from a placeholder, log frame energy in NumPy through tf.py_func, run with Session.run."""
import numpy as np
import tensorflow.compat.v1 as tf

EXPECTED_STATUS = "converted"
SHAPE = "tf1"

FRAME = 400


def _log_energy(frames):
    samples = frames.astype(np.float32) / 32768.0
    energy = np.sum(samples ** 2, axis=-1)
    return np.log(np.maximum(energy, 1e-10))


def build_graph():
    """Builds the graph into the default graph: (placeholders, output)."""
    frames = tf.placeholder(tf.int16, [None, FRAME], name="pcm_frames")
    log_energy = tf.py_func(_log_energy, [frames], tf.float32)
    return [frames], log_energy


class FrontEnd:
    """A TF1-era front end object: builds its graph and Session once, runs it per call."""

    def __init__(self, build):
        self.graph = tf.Graph()
        with self.graph.as_default():
            (self.frames,), self.output = build()
        self.session = tf.Session(graph=self.graph)

    def __call__(self, frames):
        return self.session.run(self.output, feed_dict={self.frames: np.asarray(frames)})


def _reference_graph():
    frames = tf.placeholder(tf.int16, [None, FRAME], name="pcm_frames")
    samples = tf.cast(frames, tf.float32) / 32768.0
    return [frames], tf.log(tf.maximum(tf.reduce_sum(tf.square(samples), axis=-1), 1e-10))


_FRONT_ENDS = {}


def _front_end(build):
    if build not in _FRONT_ENDS:
        _FRONT_ENDS[build] = FrontEnd(build)
    return _FRONT_ENDS[build]


def program(frames):
    """The original: a graph whose py_func leaves it on every Session.run."""
    return _front_end(build_graph)(frames)


def reference(frames):
    """Hand-written native TF in the same graph-and-session form."""
    return _front_end(_reference_graph)(frames)


def sample_inputs():
    """Deterministic inputs: 50 frames of 16 kHz int16 PCM (25 ms each)."""
    rng = np.random.default_rng(42)
    return (rng.integers(-3000, 3000, size=(50, FRAME)).astype(np.int16),)
