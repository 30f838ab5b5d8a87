"""`rewriter bench`: time the corpus programs before and after the rewrite, next to hand-written TF.

For every runnable corpus program the engine is expected to touch, in one process:

1. import the original module and a rewritten copy (``rewrite_source`` -> a temporary folder);
2. time the original ``program``, the rewritten ``program`` and ``reference`` on
   ``sample_inputs()`` under one ``tf.device``: the first call (trace + run) on its own, then
   warm-up calls, then the median of timed calls, each synchronised with ``.numpy()``; the
   timed calls of the three are interleaved, so that the machine's load hits them alike.

``program`` functions that are not a ``tf.function`` (tf.data map functions) are wrapped in
``tf.function`` as tf.data would trace them, except TF1 programs, which run their own Session; ``reference`` is wrapped in ``tf.function`` with
the input_signature of ``program`` when it has one. Reported per program: steady-state
medians, ``speedup = original / rewritten`` and ``overhead = rewritten / reference`` (1.0 means
the rewrite is as fast as the hand-written TF).

The corpus helpers the tests share are in `corpus`, the timing in `bench_timing`, the table
and its Markdown in `bench_report`. TensorFlow is imported only when something runs.
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .bench_profile import op_profile
from .bench_report import Progress, print_report, to_markdown
from .bench_timing import best_device, device_exists, graph_function, machine_info, time_variants
from .corpus import CorpusFile, compare_outputs, corpus_files, first_reason, import_file, site_status

EXIT_OK, EXIT_ERROR = 0, 2


@dataclass
class Row:
    name: str
    file: str
    shape: str
    expected: str
    status: str = ""              # engine: converted | partial | left | error
    reason: str = ""              # the engine's first reason for a site left
    original_first_ms: float | None = None
    rewritten_first_ms: float | None = None
    reference_first_ms: float | None = None
    original_ms: float | None = None
    rewritten_ms: float | None = None
    reference_ms: float | None = None
    repeats: dict = field(default_factory=dict)
    speedup: float | None = None  # original / rewritten
    overhead: float | None = None  # rewritten / reference
    check: str = ""               # rewritten vs original outputs: ok | shapes ok (random) | mismatch: ...
    error: str = ""               # a run that raised
    xla_ms: float | None = None   # --jit: the rewritten program under tf.function(jit_compile=True)
    xla_speedup: float | None = None  # original / rewritten under XLA
    xla_error: str = ""           # --jit: why XLA could not compile the rewrite (the ops it lacks)
    profile: str = ""             # where a slow rewrite spends its time (bench_profile), and the reference


def _geomean(values):
    values = [v for v in values if v and v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def _skip_reason(entry: CorpusFile) -> str:
    if not entry.runnable:
        return "RUNNABLE = False (needs a package or files missing here)"
    if entry.expected == "left":
        return "expected left: nothing for the rewriter to speed up"
    return ""


def bench_one(entry: CorpusFile, workdir: Path, device: str, warmup: int, repeats, jit: bool = False) -> Row:
    """Rewrite, import and time one corpus program (and, with `jit`, its rewrite under XLA)."""
    import tensorflow as tf
    from .pipeline import rewrite_source

    row = Row(entry.stem, str(entry.path), entry.shape, entry.expected)
    try:
        result = rewrite_source(entry.text, str(entry.path))
    except Exception as exc:  # an engine bug: report it, go on with the other programs
        row.status, row.error = "error", f"rewrite_source raised {_exception_line(exc)}"
        return row
    row.status = site_status(result)
    row.reason = first_reason(result, entry.shape)
    try:
        original = import_file(entry.path, "orig")
        rewritten = None
        if result.changed:
            target = workdir / entry.name
            target.write_text(result.new, encoding="utf-8")
            rewritten = import_file(target, "new")
        with tf.device(device):
            inputs = [tf.constant(x) for x in original.sample_inputs()]
            signature = getattr(original.program, "input_signature", None)
            traced = _as_called if entry.shape == "tf1" else graph_function
            variants = [("original", traced(original.program))]
            if rewritten is not None:
                variants.append(("rewritten", traced(rewritten.program)))
            variants.append(("reference", traced(original.reference, signature)))
            if jit and rewritten is not None and entry.shape == "tf1":
                row.xla_error = "not timed: a TF1 program runs its own Session"
            elif jit and rewritten is not None:
                compiled, row.xla_error = _compiled_with_xla(rewritten.program, signature, inputs)
                variants += [("xla", compiled)] if compiled is not None else []
            timings = time_variants(variants, inputs, warmup, repeats)
            outputs = {}
            for label, timing in timings.items():
                if label != "xla":
                    setattr(row, f"{label}_first_ms", timing["first_ms"])
                setattr(row, f"{label}_ms", timing["median_ms"])
                row.repeats[label] = timing["repeats"]
                outputs[label] = timing["outputs"]
    except Exception as exc:  # a program that fails is reported, the run goes on
        row.error = _exception_line(exc)
        return row
    if row.xla_ms:
        row.xla_speedup = row.original_ms / row.xla_ms
    if rewritten is not None:
        row.speedup = row.original_ms / row.rewritten_ms if row.rewritten_ms else None
        row.overhead = row.rewritten_ms / row.reference_ms if row.reference_ms else None
        if entry.shape != "tf1" and _slow(row):
            row.profile = _profiles(dict(variants), inputs, device)
        if entry.shape == "random":
            problems = [p for p in compare_outputs(outputs["rewritten"], outputs["original"])
                        if "elements differ" not in p]
            row.check = "shapes ok (random)" if not problems else "mismatch: " + "; ".join(problems)
        else:
            problems = compare_outputs(outputs["rewritten"], outputs["original"])
            row.check = "ok" if not problems else "mismatch: " + "; ".join(problems)
    return row


SLOW_OVERHEAD = 1.5
"""Above this overhead against the reference, the bench profiles both to say why."""


def _slow(row: Row) -> bool:
    return (row.speedup is not None and row.speedup < 1.0) or (row.overhead or 0) > SLOW_OVERHEAD


def _profiles(functions: dict, inputs, device: str) -> str:
    """`rewritten: <op profile>; reference: <op profile>`, or why there is none."""
    import tensorflow as tf

    parts = []
    for label in ("rewritten", "reference"):
        try:
            with tf.device(device):
                parts.append(f"{label}: {op_profile(functions[label], inputs).describe()}")
        except Exception as exc:  # noqa: BLE001 - a graph that cannot run alone has no profile
            parts.append(f"{label}: no profile ({_exception_line(exc)})")
    return "; ".join(parts)


def _compiled_with_xla(program, signature, inputs):
    """(the program under tf.function(jit_compile=True), "") when XLA compiles and runs it, else
    (None, why): the ops XLA has no kernel for, as TensorFlow names them."""
    import tensorflow as tf

    python_function = getattr(program, "python_function", program)
    compiled = tf.function(python_function, input_signature=signature, jit_compile=True)
    try:
        compiled(*inputs)
    except Exception as exc:  # noqa: BLE001 - any compile failure is a finding to report
        ops = sorted(set(re.findall(r"No registered '(\w+)' OpKernel for XLA", str(exc))))
        return None, "not compiled: " + (("no XLA kernel for " + ", ".join(ops)) if ops else _exception_line(exc))
    return compiled, ""


def _as_called(fn, input_signature=None):
    """TF1 programs run their own Session: they are timed as they are called."""
    return fn


def _exception_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def run_bench(paths=None, device=None, json_out=None, markdown_out=None, repeats=None, warmup=1,
              progress=True, out=None, jit=False) -> int:
    """Benchmark the corpus programs under `paths` (default: the shipped corpus) and print a
    table to `out`; write JSON / Markdown when asked. `jit` also times each rewrite under XLA. `repeats=None` times adaptively (until
    0.5 s or 200 calls per function). Returns the exit code: 0, or 2 if a path is bad, nothing could be
    benchmarked, or a program failed to run or its rewrite gave different outputs."""
    out = out if out is not None else sys.stdout
    files, problems = corpus_files(paths)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not files:
        print("error: no corpus programs found", file=sys.stderr)
        return EXIT_ERROR

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    if device and not device_exists(device):
        available = ", ".join(d.name for d in tf.config.list_logical_devices()) or "none"
        print(f"error: no device {device!r} here (available: {available})", file=sys.stderr)
        return EXIT_ERROR
    device = device or best_device()
    machine = machine_info(device)

    todo = [f for f in files if not _skip_reason(f)]
    skipped = [{"name": f.stem, "file": str(f.path), "shape": f.shape, "expected": f.expected,
                "reason": _skip_reason(f)} for f in files if _skip_reason(f)]
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rewriter-bench-") as workdir, \
            Progress(progress, len(todo)) as advance:
        for entry in todo:
            advance(entry.stem)
            rows.append(bench_one(entry, Path(workdir), device, warmup, repeats, jit))
        advance(None)
    elapsed = time.perf_counter() - started

    summary = _summary(rows, skipped, elapsed)
    print_report(rows, skipped, summary, machine, out)
    if json_out:
        payload = {"machine": machine, "summary": summary,
                   "programs": [_row_dict(r) for r in rows], "skipped": skipped}
        Path(json_out).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if markdown_out:
        Path(markdown_out).write_text(to_markdown(rows, skipped, summary, machine), encoding="utf-8")
    failed = any(r.error or r.check.startswith("mismatch") for r in rows)
    return EXIT_ERROR if problems or failed else EXIT_OK


def _row_dict(row: Row) -> dict:
    data = dict(row.__dict__)
    for key, value in data.items():
        if isinstance(value, float):
            data[key] = round(value, 4)
    return data


def _summary(rows, skipped, elapsed) -> dict:
    converted = [r for r in rows if r.status == "converted" and not r.error]
    counts = {s: sum(r.status == s for r in rows) for s in ("converted", "partial", "left", "error")}
    speedup, overhead = _geomean(r.speedup for r in converted), _geomean(r.overhead for r in converted)
    xla = _geomean(r.xla_speedup for r in converted)
    return {"benchmarked": len(rows), **counts, "skipped": len(skipped),
            "failed": sum(bool(r.error) for r in rows),
            "mismatched": sum(r.check.startswith("mismatch") for r in rows),
            "geomean_speedup": round(speedup, 4) if speedup else None,
            "geomean_overhead": round(overhead, 4) if overhead else None,
            "geomean_xla_speedup": round(xla, 4) if xla else None,
            "xla_failed": sum(r.xla_error.startswith("not compiled") for r in converted),
            "geomean_over": len([r for r in converted if r.speedup]),
            "seconds": round(elapsed, 1)}
