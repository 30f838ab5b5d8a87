"""The corpus programs, as the tests and `rewriter bench` read and run them.

A corpus program is a module with `program`, `reference` and `sample_inputs` and constants
saying what the engine should do with it (EXPECTED_STATUS, SHAPE, RUNNABLE). Here: finding and
reading them (their constants without importing them), the site status of a rewrite, importing
a file under a fresh module name, and comparing two programs' outputs. TensorFlow is imported
only when outputs are compared.
"""
from __future__ import annotations

import ast
import importlib.util
import itertools
import os
import sys
from dataclasses import dataclass
from pathlib import Path

CALLBACK_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})
"""Graph ops that call back into Python: a converted program's graph has none."""


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
