"""Time rewriter.verify on a typical rewrite site.

The site is row standardisation of a 256x128 float32 array, NumPy original
vs TensorFlow rewrite, checked with grad=True (default trials) on the CPU.
The script warms up, then prints the median wall time over the repeats.

    python benchmarks/verify_cost.py [--repeats 30] [--warmup 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from rewriter.verification import verify  # noqa: E402


def standardise_np(x):
    return (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)


def standardise_tf(x):
    mean, var = tf.nn.moments(x, axes=[1], keepdims=True)
    return (x - mean) / tf.sqrt(var)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)

    x = np.random.default_rng(0).standard_normal((256, 128)).astype(np.float32)
    for _ in range(args.warmup):
        result = verify(standardise_np, standardise_tf, x, grad=True, device="/CPU:0")
    assert result.ok, str(result)

    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        verify(standardise_np, standardise_tf, x, grad=True, device="/CPU:0")
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(
        f"verify(row standardisation 256x128 float32, grad=True, trials={result.trials}, "
        f"device={result.device}): median {median * 1e3:.1f} ms over {args.repeats} runs "
        f"(min {min(times) * 1e3:.1f} ms, max {max(times) * 1e3:.1f} ms)"
    )
    return median


if __name__ == "__main__":
    main()
