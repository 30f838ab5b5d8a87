"""Cost of @autograph_numpy, side by side in one process (CPU).

    python benchmarks/decorator_cost.py

Conversion: decorate + first call, against tf.autograph.to_graph + first call of the same
computation written in TF by hand (what AutoGraph costs for code that is already TF).
Steady state: median call time of the decorated function against the hand-written
tf.function, after warm-up.
"""
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from rewriter import autograph_numpy  # noqa: E402


def features(x):
    mu = x.mean(axis=1, keepdims=True)
    sd = x.std(axis=1, keepdims=True)
    z = (x - mu) / (sd + 1e-6)
    return np.abs(np.fft.rfft(z)).sum(axis=1) + np.tanh(z).max(axis=1)


def features_again(x):
    mu = x.mean(axis=1, keepdims=True)
    sd = x.std(axis=1, keepdims=True)
    z = (x - mu) / (sd + 1e-6)
    return np.abs(np.fft.rfft(z)).sum(axis=1) + np.tanh(z).max(axis=1)


def features_tf_again(x):
    mu = tf.reduce_mean(x, axis=1, keepdims=True)
    sd = tf.math.reduce_std(x, axis=1, keepdims=True)
    z = (x - mu) / (sd + 1e-6)
    return tf.reduce_sum(tf.abs(tf.signal.rfft(z)), axis=1) + tf.reduce_max(tf.tanh(z), axis=1)


def features_tf(x):
    mu = tf.reduce_mean(x, axis=1, keepdims=True)
    sd = tf.math.reduce_std(x, axis=1, keepdims=True)
    z = (x - mu) / (sd + 1e-6)
    return tf.reduce_sum(tf.abs(tf.signal.rfft(z)), axis=1) + tf.reduce_max(tf.tanh(z), axis=1)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def median_ms(fn, x, repeats=200):
    for _ in range(20):
        fn(x).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x).numpy()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main():
    x = tf.constant(np.random.default_rng(0).standard_normal((64, 256)).astype(np.float32))
    _, ours = timed(lambda: autograph_numpy(features)(x).numpy())
    _, autograph = timed(lambda: tf.function(tf.autograph.to_graph(features_tf))(x).numpy())
    # A second function in the same process: one-time costs (loading the pattern library,
    # AutoGraph's own start-up) are paid; this is the cost of each further conversion.
    _, ours_again = timed(lambda: autograph_numpy(features_again)(x).numpy())
    _, autograph_again = timed(lambda: tf.function(tf.autograph.to_graph(features_tf_again))(x).numpy())
    decorated = autograph_numpy(features)
    hand = tf.function(features_tf)
    steady_ours, steady_hand = median_ms(decorated, x), median_ms(hand, x)
    print("| measure | @autograph_numpy | reference | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| decorate + first call, first in process (ms) | {1e3 * ours:.1f} | {1e3 * autograph:.1f} "
          f"(to_graph + first call) | {ours / autograph:.2f} |")
    print(f"| decorate + first call, next function (ms) | {1e3 * ours_again:.1f} | {1e3 * autograph_again:.1f} "
          f"(to_graph + first call) | {ours_again / autograph_again:.2f} |")
    print(f"| steady-state call (ms) | {steady_ours:.3f} | {steady_hand:.3f} (hand-written tf.function) "
          f"| {steady_ours / steady_hand:.2f} |")


if __name__ == "__main__":
    main()
