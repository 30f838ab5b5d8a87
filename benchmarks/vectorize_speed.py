"""Vectorized rewrites against their loop forms, side by side in one process (CPU).

    python benchmarks/vectorize_speed.py

Each shape is timed as the original (the loop / per-element form) and as the code rewriter
emits for it (taken from the engine, not written by hand), median of repeats after warm-up.
"""
import os
import statistics
import textwrap
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from rewriter.pipeline import rewrite_source  # noqa: E402


def median_ms(fn, *args, repeats=15, warmup=3):
    for _ in range(warmup):
        _block(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _block(fn(*args))
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _block(out):
    for value in out if isinstance(out, (tuple, list)) else [out]:
        value.numpy()


def both(source, name, module_name):
    """The original program and the rewritten one, from real files (AutoGraph reads source)."""
    rewritten = rewrite_source(source, f"{module_name}.py")
    assert all(c.status == "converted" for c in rewritten.conversions), [c.reason for c in rewritten.conversions]
    folder = os.path.join(os.path.dirname(__file__), "_generated")
    os.makedirs(folder, exist_ok=True)
    modules = []
    for suffix, text in (("original", source), ("rewritten", rewritten.new)):
        path = os.path.join(folder, f"{module_name}_{suffix}.py")
        with open(path, "w") as handle:
            handle.write(text)
        namespace = {"__name__": f"{module_name}_{suffix}", "__file__": path}
        exec(compile(text, path, "exec"), namespace)
        modules.append(namespace[name])
    return modules


APPLY = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def row_energy(a):
        return np.apply_along_axis(lambda r: np.sqrt(np.sum(np.square(r))), 1, a)


    @tf.function(input_signature=[tf.TensorSpec([None, 100], tf.float64)])
    def program(a):
        return tf.numpy_function(row_energy, [a], tf.float64)
    """)

MAP_FN = textwrap.dedent("""\
    import tensorflow as tf


    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def program(x):
        return tf.map_fn(lambda v: tf.nn.relu(v) * 2.0 + tf.sigmoid(v), x)
    """)

RANGE_LOOP = textwrap.dedent("""\
    import tensorflow as tf


    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)])
    def program(n):
        r = tf.constant(0)
        for i in tf.range(n):
            if i % 2 == 0:
                r += i
            else:
                r -= i
        return r
    """)

FILL_ROWS = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def centre_rows(a):
        out = np.empty((a.shape[0], a.shape[1]), dtype=np.float32)
        for i in range(len(a)):
            centred = a[i] - a[i].mean()
            out[i] = centred / (np.sqrt((centred * centred).mean()) + 1e-6)
        return out


    @tf.function(input_signature=[tf.TensorSpec([None, 100], tf.float32)])
    def program(a):
        return tf.numpy_function(centre_rows, [a], tf.float32)
    """)

RUNNING_TOTAL = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def running_total(x):
        out = np.zeros_like(x)
        total = 0.0
        for t in range(len(x)):
            total += x[t] * x[t]
            out[t] = total
        return out


    @tf.function(input_signature=[tf.TensorSpec([None], tf.float64)])
    def program(x):
        return tf.numpy_function(running_total, [x], tf.float64)
    """)

FLAG_AND_BEST = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def scan_rows(x):
        found = False
        for r in x:
            if np.abs(r).max() > 4.5:
                found = True
        best = -np.inf
        best_i = -1
        for i, r in enumerate(x):
            if r.sum() > best:
                best = r.sum()
                best_i = i
        return found, best, best_i


    @tf.function(input_signature=[tf.TensorSpec([None, 16], tf.float64)])
    def program(x):
        return tf.numpy_function(scan_rows, [x], (tf.bool, tf.float64, tf.int64))
    """)

def corpus_program(name):
    """The source of a corpus program (its `program` is the loop form benchmarked here)."""
    with open(os.path.join(os.path.dirname(__file__), "..", "corpus", name), encoding="utf-8") as handle:
        return handle.read()


def main():
    rng = np.random.default_rng(0)
    rows = []
    original, rewritten = both(APPLY, "program", "apply_rows")
    for n in (1000, 10**5):
        a = tf.constant(rng.standard_normal((n, 100)))
        rows.append((f"apply_along_axis in numpy_function, {n}x100", median_ms(original, a, repeats=5),
                     median_ms(rewritten, a)))
    original, rewritten = both(MAP_FN, "program", "map_fn_elementwise")
    for n in (10**4, 10**5):
        x = tf.constant(rng.standard_normal(n).astype(np.float32))
        rows.append((f"tf.map_fn elementwise, {n} elements", median_ms(original, x, repeats=5),
                     median_ms(rewritten, x)))
    original, rewritten = both(RANGE_LOOP, "program", "range_parity")
    n = tf.constant(10**4)
    rows.append(("tf.range parity loop, 10^4 steps", median_ms(original, n, repeats=5), median_ms(rewritten, n)))
    original, rewritten = both(FILL_ROWS, "program", "fill_rows")
    a = tf.constant(rng.standard_normal((1000, 100)).astype(np.float32))
    rows.append(("fill loop with a per-row temporary, 1000x100", median_ms(original, a), median_ms(rewritten, a)))
    original, rewritten = both(RUNNING_TOTAL, "program", "running_total")
    x = tf.constant(rng.standard_normal(10**4))
    rows.append(("running total (cumsum), 10^4 steps", median_ms(original, x), median_ms(rewritten, x)))
    original, rewritten = both(corpus_program("loop_discounted_returns.py"), "program", "discounted_returns")
    rewards = tf.constant(rng.standard_normal((1024, 256)).astype(np.float32))
    dones = tf.constant((rng.random((1024, 256)) < 0.01).astype(np.float32))
    rows.append(("discounted returns (tf.scan), 1024x256", median_ms(original, rewards, dones),
                 median_ms(rewritten, rewards, dones)))
    original, rewritten = both(FLAG_AND_BEST, "program", "flag_and_best")
    x = tf.constant(rng.standard_normal((10**4, 16)))
    rows.append(("any-flag and running best with index, 10^4 rows", median_ms(original, x), median_ms(rewritten, x)))
    original, rewritten = both(corpus_program("loop_running_max.py"), "program", "running_max")
    x = tf.constant(np.cumsum(rng.standard_normal((1024, 512)), axis=0).astype(np.float32))
    rows.append(("tf.range running max into a TensorArray, 1024x512", median_ms(original, x), median_ms(rewritten, x)))
    print("| shape | loop form (ms) | rewritten (ms) | speedup |")
    print("|---|---:|---:|---:|")
    for name, slow, fast in rows:
        ratio = slow / fast
        print(f"| {name} | {slow:.2f} | {fast:.3f} | {ratio:.0f}x |" if ratio >= 10 else
              f"| {name} | {slow:.2f} | {fast:.3f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
