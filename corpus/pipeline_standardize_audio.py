"""Zero-mean / unit-variance standardisation of a waveform through the legacy tf.compat.v1.py_func (speech front end written with `import numpy`)."""
import numpy
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"


def standardize(wav):
    wav = wav - wav.mean()
    return wav / max(wav.std(), 1e-8)


@tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
def program(wav):
    """The original: TF code that leaves the graph."""
    out = tf.compat.v1.py_func(standardize, [wav], tf.float32, stateful=False)
    out.set_shape(wav.shape)
    return out


def reference(wav):
    """Hand-written native TF: the best a human would write."""
    wav = wav - tf.reduce_mean(wav)
    return wav / tf.maximum(tf.math.reduce_std(wav), 1e-8)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple).

    30 s of 16-bit PCM scaled to [-1, 1) (multiples of 2**-15): partial sums
    stay exact in float32, so the mean is identical in NumPy and TF.
    """
    rng = numpy.random.default_rng(12)
    t = numpy.arange(16000 * 30) / 16000.0
    sig = 0.05 * numpy.sin(2 * numpy.pi * 220.0 * t) + 0.02 * rng.standard_normal(t.size)
    pcm = numpy.round(sig * 32768.0).astype(numpy.int16)
    return ((pcm / 32768.0).astype(numpy.float32),)
