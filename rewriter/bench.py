"""`rewriter bench`: time the corpus programs before and after the rewrite, next to hand-written TF.

For every runnable corpus program the engine is expected to touch, in one process:

1. import the original module and a rewritten copy (``rewrite_source`` -> a temporary folder);
2. time the original ``program``, the rewritten ``program`` and ``reference`` on
   ``sample_inputs()`` under one ``tf.device``: the first call (trace + run) on its own, then
   warm-up calls, then the median of timed calls, each synchronised with ``.numpy()``; the
   timed calls of the three are interleaved, so that the machine's load hits them alike.

``program`` functions that are not a ``tf.function`` (tf.data map functions) are wrapped in
``tf.function`` as tf.data would trace them; ``reference`` is wrapped in ``tf.function`` with
the input_signature of ``program`` when it has one. Reported per program: steady-state
medians, ``speedup = original / rewritten`` and ``overhead = rewritten / reference`` (1.0 means
the rewrite is as fast as the hand-written TF).

This module also holds the corpus helpers the tests share (reading a corpus file's constants
without importing it, importing a file under a fresh module name, the site status of a
rewrite, comparing outputs). TensorFlow is imported only when something runs.
"""
from __future__ import annotations

import ast
import importlib.util
import itertools
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

EXIT_OK, EXIT_ERROR = 0, 2
CALLBACK_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})
DASH = "—"

# Adaptive repeats: timed rounds until BUDGET_S of calls per function or MAX_REPEATS rounds, at
# least MIN_REPEATS.
BUDGET_S, MIN_REPEATS, MAX_REPEATS = 0.5, 3, 20


# --------------------------------------------------------------------------------------------
# corpus files


def default_corpus() -> Path:
    """The corpus folder shipped with the source tree (next to the package)."""
    return Path(__file__).resolve().parent.parent / "corpus"


def module_constants(text: str) -> dict:
    """Module-level `NAME = <literal>` assignments of a source text, without importing it."""
    constants = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    constants[target.id] = ast.literal_eval(value)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    pass
    return constants


@dataclass
class CorpusFile:
    path: Path
    text: str
    expected: str        # EXPECTED_STATUS
    shape: str           # SHAPE
    runnable: bool       # RUNNABLE (default True)
    description: str     # first line of the module docstring

    @property
    def name(self) -> str:   # file name, e.g. "pipeline_normalize_rows.py"
        return self.path.name

    @property
    def stem(self) -> str:
        return self.path.stem


def read_corpus_file(path) -> CorpusFile:
    """A corpus file's metadata; ValueError if it is not a corpus program."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise ValueError(f"{path}: syntax error: {exc.msg} (line {exc.lineno})") from None
    constants = module_constants(text)
    expected = constants.get("EXPECTED_STATUS")
    if expected not in ("converted", "partial", "left"):
        raise ValueError(f"{path}: not a corpus program (no EXPECTED_STATUS converted/partial/left)")
    functions = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    missing = {"reference", "sample_inputs"} - functions
    if missing:
        raise ValueError(f"{path}: corpus program without {', '.join(sorted(missing))}")
    doc = (ast.get_docstring(tree) or "").strip().splitlines()
    return CorpusFile(path, text, expected, str(constants.get("SHAPE", "?")),
                      bool(constants.get("RUNNABLE", True)), doc[0] if doc else "")


def corpus_files(paths=None) -> tuple[list, list]:
    """Corpus programs under `paths` (files or folders, default: the shipped corpus), sorted by
    name within each folder, and the problems met (one string each)."""
    if paths is None or (not isinstance(paths, (str, os.PathLike)) and not list(paths)):
        paths = [default_corpus()]
    elif isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files, problems, seen = [], [], set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = sorted(p for p in path.glob("*.py") if not p.name.startswith(("_", ".")))
            strict = False
        elif path.is_file():
            candidates, strict = [path], True
        else:
            problems.append(f"{path}: no such file or folder")
            continue
        for candidate in candidates:
            key = candidate.resolve()
            if key in seen:
                continue
            seen.add(key)
            try:
                files.append(read_corpus_file(candidate))
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(f"{candidate}: {exc}")
            except ValueError as exc:
                if strict or "not a corpus program" not in str(exc):
                    problems.append(str(exc))
    return files, problems


# --------------------------------------------------------------------------------------------
# rewrite outcome


def site_status(result) -> str:
    """converted (every site), left (none: the text is unchanged), partial, or error (the file
    could not be parsed). A file without any site is left."""
    if result.error:
        return "error"
    statuses = [c.status for c in result.conversions]
    converted = statuses.count("converted")
    if converted == 0:
        return "left"
    return "converted" if converted == len(statuses) else "partial"


def first_reason(result, shape: str = "") -> str:
    """The engine's first reason for not converting, one line."""
    if result.error:
        return f"error line {result.error_line}: {result.error}"
    for c in result.conversions:
        if c.status != "converted":
            code = f"{c.code} " if c.code else ""
            return f"{code}line {c.line}: {c.reason}"
    if not result.conversions:
        kind = f" ({shape} form)" if shape else ""
        return f"no site found{kind}: nothing calls tf.numpy_function / tf.py_function / tf.py_func"
    return ""


# --------------------------------------------------------------------------------------------
# running programs

_counter = itertools.count()


def import_file(path, label: str = "mod"):
    """Import a Python file under a fresh module name (registered in sys.modules, which
    tf.function's source lookup needs)."""
    path = Path(path)
    name = f"_rewriter_corpus_{label}_{path.stem}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def as_numpy(outputs) -> list:
    """A program's outputs as a flat list of NumPy arrays."""
    import numpy as np
    import tensorflow as tf

    return [x.numpy() if hasattr(x, "numpy") else np.asarray(x) for x in tf.nest.flatten(outputs)]


def tolerance(expected):
    """(rtol, atol) for comparing against `expected`: the corpus rtol for its dtype, and an atol
    of a few ulps of the data's largest magnitude (for elements near zero)."""
    import numpy as np

    dtype = np.dtype(expected.dtype)
    real = np.finfo(dtype).dtype
    rtol = {8: 1e-10, 4: 1e-5}.get(real.itemsize, 1e-3)
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else np.zeros(0)
    scale = float(finite.max()) if finite.size else 0.0
    return rtol, 8 * float(np.finfo(real).eps) * scale


def compare_outputs(actual, expected, check_dtype: bool = True) -> list:
    """Problems (strings) found comparing two programs' outputs; empty when equal: floats within
    `tolerance`, ints, bools and strings exactly, same shapes and (if asked) dtypes."""
    import numpy as np

    actual, expected = as_numpy(actual), as_numpy(expected)
    if len(actual) != len(expected):
        return [f"{len(actual)} outputs, expected {len(expected)}"]
    problems = []
    for i, (a, e) in enumerate(zip(actual, expected)):
        where = f"output {i}" if len(expected) > 1 else "output"
        if check_dtype and a.dtype != e.dtype:
            problems.append(f"{where}: dtype {a.dtype}, expected {e.dtype}")
            continue
        if a.shape != e.shape:
            problems.append(f"{where}: shape {a.shape}, expected {e.shape}")
            continue
        if e.dtype.kind in "fc":
            rtol, atol = tolerance(e)
            close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
            if not close.all():
                diff = np.abs(a.astype(np.complex128 if e.dtype.kind == "c" else np.float64) - e)
                problems.append(f"{where}: {int((~close).sum())} of {e.size} elements differ "
                                f"(max abs diff {np.nanmax(diff):.3g}, rtol {rtol:g}, atol {atol:.3g})")
        elif not np.array_equal(a, e):
            differ = int(np.sum(a != e)) if a.dtype.kind not in "OSU" else "some"
            problems.append(f"{where}: {differ} of {e.size} elements differ")
    return problems


def _sync(outputs):
    for x in _flatten(outputs):
        if hasattr(x, "numpy"):
            x.numpy()


def _flatten(outputs):
    import tensorflow as tf

    return tf.nest.flatten(outputs)


def time_variants(variants, args, warmup: int = 1, repeats=None) -> dict:
    """Time several functions on the same inputs: each one's first call (trace + run), `warmup`
    untimed rounds, then timed rounds that call every function once, interleaved so that a
    change in the machine's load hits all of them alike. Exactly `repeats` rounds if given, else
    until the timed calls add up to BUDGET_S per function or MAX_REPEATS rounds (at least
    MIN_REPEATS). Returns {label: {first_ms, median_ms, repeats, outputs}}."""
    results = {}
    for label, fn in variants:
        start = time.perf_counter()
        outputs = fn(*args)
        _sync(outputs)
        results[label] = {"first_ms": (time.perf_counter() - start) * 1e3, "outputs": outputs, "times": []}
    for _ in range(warmup):
        for _label, fn in variants:
            _sync(fn(*args))
    rounds = 0
    while True:
        if repeats is not None:
            if rounds >= repeats:
                break
        else:
            spent = sum(sum(r["times"]) for r in results.values())
            if rounds >= MAX_REPEATS or (rounds >= MIN_REPEATS and spent >= BUDGET_S * len(variants)):
                break
        for label, fn in variants:
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


# --------------------------------------------------------------------------------------------
# the benchmark


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


def _geomean(values):
    values = [v for v in values if v and v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def _skip_reason(entry: CorpusFile) -> str:
    if not entry.runnable:
        return "RUNNABLE = False (needs a package or files missing here)"
    if entry.expected == "left":
        return "expected left: nothing for the rewriter to speed up"
    return ""


def bench_one(entry: CorpusFile, workdir: Path, device: str, warmup: int, repeats) -> Row:
    """Rewrite, import and time one corpus program."""
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
            variants = [("original", graph_function(original.program))]
            if rewritten is not None:
                variants.append(("rewritten", graph_function(rewritten.program)))
            variants.append(("reference", graph_function(original.reference, signature)))
            timings = time_variants(variants, inputs, warmup, repeats)
            outputs = {}
            for label, timing in timings.items():
                setattr(row, f"{label}_first_ms", timing["first_ms"])
                setattr(row, f"{label}_ms", timing["median_ms"])
                row.repeats[label] = timing["repeats"]
                outputs[label] = timing["outputs"]
    except Exception as exc:  # a program that fails is reported, the run goes on
        row.error = _exception_line(exc)
        return row
    if rewritten is not None:
        row.speedup = row.original_ms / row.rewritten_ms if row.rewritten_ms else None
        row.overhead = row.rewritten_ms / row.reference_ms if row.reference_ms else None
        if entry.shape == "random":
            problems = [p for p in compare_outputs(outputs["rewritten"], outputs["original"])
                        if "elements differ" not in p]
            row.check = "shapes ok (random)" if not problems else "mismatch: " + "; ".join(problems)
        else:
            problems = compare_outputs(outputs["rewritten"], outputs["original"])
            row.check = "ok" if not problems else "mismatch: " + "; ".join(problems)
    return row


def _exception_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def run_bench(paths=None, device=None, json_out=None, markdown_out=None, repeats=None, warmup=1,
              progress=True, out=None) -> int:
    """Benchmark the corpus programs under `paths` (default: the shipped corpus) and print a
    table to `out`; write JSON / Markdown when asked. `repeats=None` times adaptively (until
    0.5 s or 20 calls). Returns the exit code: 0, or 2 if a path is bad, nothing could be
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
            _Progress(progress, len(todo)) as advance:
        for entry in todo:
            advance(entry.stem)
            rows.append(bench_one(entry, Path(workdir), device, warmup, repeats))
        advance(None)
    elapsed = time.perf_counter() - started

    summary = _summary(rows, skipped, elapsed)
    _print_report(rows, skipped, summary, machine, out)
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
    return {"benchmarked": len(rows), **counts, "skipped": len(skipped),
            "failed": sum(bool(r.error) for r in rows),
            "mismatched": sum(r.check.startswith("mismatch") for r in rows),
            "geomean_speedup": round(speedup, 4) if speedup else None,
            "geomean_overhead": round(overhead, 4) if overhead else None,
            "geomean_over": len([r for r in converted if r.speedup]),
            "seconds": round(elapsed, 1)}


# --------------------------------------------------------------------------------------------
# rendering

HEADERS = ("program", "shape", "status", "first call ms",
           "orig ms", "rewr ms", "ref ms", "speedup", "overhead")


def _ms(value) -> str:
    if value is None:
        return DASH
    return f"{value:.0f}" if value >= 100 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _ratio(value) -> str:
    return DASH if value is None else f"{value:.2f}×"


def _cells(row: Row) -> list:
    status = "FAILED" if row.error else row.status + (" MISMATCH" if row.check.startswith("mismatch") else "")
    first = " / ".join(_ms(v) for v in (row.original_first_ms, row.rewritten_first_ms, row.reference_first_ms))
    return [row.name, row.shape, status, first, _ms(row.original_ms), _ms(row.rewritten_ms),
            _ms(row.reference_ms), _ratio(row.speedup), _ratio(row.overhead)]


def _notes(rows, skipped) -> list:
    notes = []
    for row in rows:
        if row.error:
            notes.append(f"{row.name}: failed: {row.error}")
        elif row.check.startswith("mismatch"):
            notes.append(f"{row.name}: rewritten output differs from the original: {row.check[10:]}")
        if row.status != "converted" and row.reason:
            expected = "as expected" if row.status == row.expected else f"(expected {row.expected})"
            notes.append(f"{row.name}: {row.status} {expected}: {_short(row.reason)}")
    for item in skipped:
        notes.append(f"{item['name']}: skipped: {item['reason']}")
    return notes


def _short(text: str, limit: int = 200) -> str:
    """A reason cut for the table's notes (the JSON keeps it whole)."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _summary_lines(summary, machine) -> list:
    n = summary["geomean_over"]
    if summary["geomean_speedup"] is None:
        means = "no converted program to average"
    else:
        means = (f"geometric mean over {n} converted program{'s' * (n != 1)}: "
                 f"speedup {summary['geomean_speedup']:.2f}×, overhead {summary['geomean_overhead']:.2f}×")
    counts = (f"{summary['benchmarked']} benchmarked ({summary['converted']} converted, {summary['partial']} "
              f"partial, {summary['left']} left by the engine), {summary['skipped']} skipped, "
              f"{summary['seconds']:.0f} s")
    host = (f"machine: {machine['cpu']}, {machine['cores']} cores, TensorFlow {machine['tensorflow']}, "
            f"NumPy {machine['numpy']}, device {machine['device']}"
            + (f", load average {machine['load_average']:.1f} at start" if machine.get("load_average") else ""))
    return [means, counts, host]


def _print_report(rows, skipped, summary, machine, out):
    legend = ("times in ms: first call (trace + run) of orig / rewr / ref, then medians of timed calls; "
              "speedup = orig / rewr, overhead = rewr / ref")
    if _isatty(out):
        from rich import box
        from rich.console import Console
        from rich.table import Table

        body = [_cells(r) for r in rows]
        widths = [max(len(str(c)) for c in column) for column in zip(HEADERS, *body)]
        console = Console(file=out)
        needed = sum(widths) + 3 * len(widths) + 1
        if console.width < needed:   # never truncate numbers: let the terminal wrap instead
            console = Console(file=out, width=needed)
        table = Table(title="rewriter bench", caption=legend, box=box.SIMPLE_HEAD)
        for i, header in enumerate(HEADERS):
            table.add_column(header, justify="left" if i < 3 else "right", no_wrap=True,
                             min_width=widths[i])
        for row, cells in zip(rows, body):
            style = "red" if row.error or row.check.startswith("mismatch") else (
                "dim" if row.status == "left" else None)
            table.add_row(*cells, style=style)
        console.print(table)
        for note in _notes(rows, skipped):
            console.print(note, style="dim", highlight=False, markup=False)
        for line in _summary_lines(summary, machine):
            console.print(line, highlight=False, markup=False)
        return
    lines = _plain_table(HEADERS, [_cells(r) for r in rows])
    print("\n".join(lines), file=out)
    print(legend, file=out)
    notes = _notes(rows, skipped)
    if notes:
        print("", file=out)
        print("\n".join(notes), file=out)
    print("", file=out)
    print("\n".join(_summary_lines(summary, machine)), file=out)


def _plain_table(headers, body) -> list:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *body)]

    def line(cells):
        return "  ".join(str(c).ljust(w) if i < 3 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths)] + [line(cells) for cells in body]


def to_markdown(rows, skipped, summary, machine) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |",
             "|" + "|".join("---" if i < 3 else "---:" for i in range(len(HEADERS))) + "|"]
    for row in rows:
        cells = _cells(row)
        lines.append("| " + " | ".join([f"`{cells[0]}`", *cells[1:]]) + " |")
    lines.append("")
    lines.append("Times in milliseconds: the first call traces and runs; the others are medians of "
                 "timed calls after a warm-up. speedup = original / rewritten, overhead = rewritten / "
                 "reference (hand-written TF).")
    notes = _notes(rows, skipped)
    if notes:
        lines.append("")
        lines.extend(f"* {_md_escape(note)}" for note in notes)
    lines.append("")
    lines.extend(f"{line}  " for line in _summary_lines(summary, machine))
    return "\n".join(lines).rstrip() + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _Progress:
    """A rich progress bar on stderr while benchmarking (a no-op when not wanted or not a TTY).
    Used as a context manager yielding `advance(name)`: each call completes the previous step."""

    def __init__(self, enabled: bool, total: int):
        self.enabled = enabled and _isatty(sys.stderr) and total > 0
        self.total = total
        self.bar = self.task = None
        self.started = False

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(),
                                console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("bench", total=self.total)
        return self.advance

    def advance(self, name):
        if self.bar is None:
            return
        if self.started:
            self.bar.advance(self.task)
        self.started = True
        if name is not None:
            self.bar.update(self.task, description=name)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False
