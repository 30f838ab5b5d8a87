"""Parity of 32-bit codes (e.g. hashed feature ids) by XOR-ing bits in a `for i in tf.range(32)` loop inside tf.function."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loop"


@tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
def program(codes):
    """The original: 32 while-loop iterations of shift / and / xor."""
    parity = tf.zeros_like(codes)
    for i in tf.range(32):
        bit = tf.bitwise.bitwise_and(tf.bitwise.right_shift(codes, i), 1)
        parity = tf.bitwise.bitwise_xor(parity, bit)
    return parity


def reference(codes):
    """Hand-written native TF: popcount & 1 (two's complement bits, like the loop)."""
    ones = tf.cast(tf.raw_ops.PopulationCount(x=codes), tf.int32)
    return tf.bitwise.bitwise_and(ones, 1)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): 1M codes incl. negatives and extremes."""
    rng = np.random.default_rng(64)
    codes = rng.integers(-2**31, 2**31, size=1 << 20, dtype=np.int64)
    codes[:4] = [0, -1, 2**31 - 1, -2**31]
    return (codes.astype(np.int32),)
