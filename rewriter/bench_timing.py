"""How `rewriter bench` times functions: interleaved rounds with an adaptive number of repeats,
each call synchronised; which device to run on; what machine the figures come from.

`rewriter bench FILE` (bench_sites) times a user's sites with the same `time_variants`.
TensorFlow is imported only inside the functions that need it.
"""
from __future__ import annotations

import os
import platform
import statistics
import time

# Adaptive repeats: each function is timed until its calls add up to BUDGET_S or it has
# MAX_REPEATS calls, and at least MIN_REPEATS. A fast function gets many calls (a median of a
# few sub-millisecond calls is mostly noise); a slow original stops early while the fast ones go on.
BUDGET_S, MIN_REPEATS, MAX_REPEATS = 0.5, 3, 200


def _sync(outputs):
    for x in _flatten(outputs):
        if hasattr(x, "numpy"):
            x.numpy()


def _flatten(outputs):
    import tensorflow as tf

    return tf.nest.flatten(outputs)


def time_variants(variants, args, warmup: int = 1, repeats=None) -> dict:
    """Time several functions on the same inputs: each one's first call (trace + run), `warmup`
    untimed rounds, then timed rounds that call every function still timing once, interleaved
    so that a change in the machine's load hits all of them alike, in an order that turns each
    round. Exactly `repeats` calls each if given, else adaptive (BUDGET_S, MIN_REPEATS,
    MAX_REPEATS). Returns {label: {first_ms, median_ms, repeats, outputs}}."""
    results = {}
    for label, fn in variants:
        start = time.perf_counter()
        outputs = fn(*args)
        _sync(outputs)
        results[label] = {"first_ms": (time.perf_counter() - start) * 1e3, "outputs": outputs, "times": []}
    for _ in range(warmup):
        for _label, fn in variants:
            _sync(fn(*args))

    def timing(label) -> bool:
        times = results[label]["times"]
        if repeats is not None:
            return len(times) < repeats
        return len(times) < MIN_REPEATS or (len(times) < MAX_REPEATS and sum(times) < BUDGET_S)

    rounds = 0
    while active := [(label, fn) for label, fn in variants if timing(label)]:
        # each round starts with the next function: none always runs right after the same one
        # (after the original's NumPy work, say), which would bias its times
        shift = rounds % len(active)
        for label, fn in active[shift:] + active[:shift]:
            start = time.perf_counter()
            _sync(fn(*args))
            results[label]["times"].append(time.perf_counter() - start)
        rounds += 1
    for result in results.values():
        times = result.pop("times")
        result["median_ms"] = statistics.median(times) * 1e3 if times else result["first_ms"]
        result["repeats"] = len(times)
    return results


def best_device() -> str:
    import tensorflow as tf

    return "/GPU:0" if tf.config.list_logical_devices("GPU") else "/CPU:0"


def device_exists(name: str) -> bool:
    """Whether a device name such as "/GPU:0", "gpu:1" or "/device:CPU:0" names a device here
    (TF would otherwise place the ops elsewhere without a word)."""
    import tensorflow as tf

    try:
        spec = tf.DeviceSpec.from_string(name if name.startswith("/") else "/" + name)
    except (ValueError, TypeError):
        return False
    if not spec.device_type:
        return False
    for device in tf.config.list_logical_devices():
        found = tf.DeviceSpec.from_string(device.name)
        if found.device_type.upper() == spec.device_type.upper() and \
                (spec.device_index is None or spec.device_index == found.device_index):
            return True
    return False


def graph_function(fn, input_signature=None):
    """`fn` itself if it is already a tf.function, else `tf.function(fn, input_signature)`."""
    import tensorflow as tf

    if hasattr(fn, "get_concrete_function"):
        return fn
    return tf.function(fn, input_signature=input_signature) if input_signature else tf.function(fn)


def machine_info(device: str) -> dict:
    import numpy as np
    import tensorflow as tf

    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.lower().startswith(("model name", "hardware", "processor\t: ")) and ":" in line:
                    value = line.split(":", 1)[1].strip()
                    if value and not value.isdigit():
                        cpu = value
                        break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 0
    try:
        load = round(os.getloadavg()[0], 2)   # other work on the machine skews the times
    except (AttributeError, OSError):
        load = None
    return {"cpu": cpu or platform.processor() or platform.machine(), "cores": cores,
            "tensorflow": tf.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "device": device, "load_average": load}
