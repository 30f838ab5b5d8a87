"""Elements per second of `tf.data` pipelines whose map step is NumPy in `tf.numpy_function`,
against the same file after `rewriter fix`, side by side in one process (CPU).

    python benchmarks/tfdata_pipeline.py [--elements N] [--rounds R]

Two pipelines written as people write them (no input_signature, no declarations): ImageNet-style
normalisation of uint8 224x224x3 images, and int16 PCM (1 s at 16 kHz) to a log-power spectrum
of 25 ms frames (a batch's frames are framed together). Each runs with `num_parallel_calls=tf.data.AUTOTUNE`, unbatched (map, then
batch 32) and batched (batch 32, then map). The two versions are timed in alternating rounds,
so that the machine's load hits both alike; the median round is reported.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from rewriter.pipeline import rewrite_source  # noqa: E402

PIPELINES = '''\
import numpy as np
import tensorflow as tf

MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def normalize(image):
    image = image / 255.0
    return ((image - MEAN) / STD).astype(np.float32)


def image_step(image):
    return tf.numpy_function(normalize, [image], tf.float32)


def log_power(pcm):
    x = pcm.astype(np.float32) / 32768.0
    frames = x.reshape(-1, 400)
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(400), axis=-1)) ** 2
    return np.log(spectrum + 1e-10).astype(np.float32)


def audio_step(pcm):
    return tf.numpy_function(log_power, [pcm], tf.float32)
'''

BATCH = 32


def _load(text: str, folder: Path, name: str):
    path = folder / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dataset(tf, data, step, batched: bool):
    autotune = tf.data.AUTOTUNE
    dataset = tf.data.Dataset.from_tensor_slices(data)
    if batched:
        return dataset.batch(BATCH).map(step, num_parallel_calls=autotune).prefetch(autotune)
    return dataset.map(step, num_parallel_calls=autotune).batch(BATCH).prefetch(autotune)


def _elements_per_second(tf, data, step, batched: bool) -> float:
    dataset = _dataset(tf, data, step, batched)
    start = time.perf_counter()
    for batch in dataset:
        batch.numpy()
    return len(data) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, default=512, help="elements per pass (default 512)")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes per version (default 5)")
    args = parser.parse_args()
    import tensorflow as tf

    result = rewrite_source(PIPELINES, "pipelines.py")
    converted = [c for c in result.conversions if c.status == "converted"]
    if len(converted) != len(result.conversions):
        sys.exit(f"expected every site converted, got: {[(c.status, c.reason) for c in result.conversions]}")
    rng = np.random.default_rng(0)
    inputs = {
        "image_step": rng.integers(0, 256, size=(args.elements, 224, 224, 3), dtype=np.uint8),
        "audio_step": rng.integers(-32768, 32768, size=(args.elements, 16000), dtype=np.int16),
    }
    with tempfile.TemporaryDirectory() as folder:
        original = _load(PIPELINES, Path(folder), "original_pipelines")
        rewritten = _load(result.new, Path(folder), "rewritten_pipelines")
        print(f"{args.elements} elements per pass, batch {BATCH}, num_parallel_calls=AUTOTUNE, "
              f"median of {args.rounds} passes, {os.cpu_count()} cores, TensorFlow {tf.__version__}")
        print(f"{'pipeline':<12} {'map':<16} {'original el/s':>14} {'rewritten el/s':>15} {'ratio':>7}")
        for name, data in inputs.items():
            for batched in (False, True):
                rates = {"original": [], "rewritten": []}
                for module in (original, rewritten):  # warm-up pass: tracing and autotuning
                    _elements_per_second(tf, data, getattr(module, name), batched)
                for _ in range(args.rounds):
                    for label, module in (("original", original), ("rewritten", rewritten)):
                        rates[label].append(_elements_per_second(tf, data, getattr(module, name), batched))
                before, after = statistics.median(rates["original"]), statistics.median(rates["rewritten"])
                form = "batch, then map" if batched else "map, then batch"
                print(f"{name:<12} {form:<16} {before:>14,.0f} {after:>15,.0f} {after / before:>6.2f}×")


if __name__ == "__main__":
    main()
