"""Run a program and its rewrite side by side, the way the program itself runs: each either
returns a value or raises, and the rewrite must do what the original did."""
from __future__ import annotations

import importlib.util
import itertools
import warnings

import numpy as np

_counter = itertools.count()

SWEEP_DTYPES = ("uint8", "uint16", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "bool")


def load_module(folder, text: str, stem: str = "program"):
    """Import `text` as a fresh module written under `folder`."""
    name = f"{stem}_{next(_counter)}"
    path = folder / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def numpy_function_program(body: str, tout: str) -> str:
    """A module holding the NumPy function `body` and `program(x)`, which wraps it in
    tf.numpy_function with `tout`: a site as people write it, nothing declared."""
    import textwrap

    name = body.split("def ", 1)[1].split("(", 1)[0]
    return (f"import numpy as np\nimport tensorflow as tf\n\n\n{textwrap.dedent(body)}\n\n"
            f"def program(x):\n    return tf.numpy_function({name}, [x], {tout})\n")


def load_numpy_function_programs(folder, programs: dict) -> dict:
    """`load_rewritten` of programs given as name -> (NumPy function body, Tout, ...)."""
    return load_rewritten(folder, {name: numpy_function_program(body, tout) for name, (body, tout, *_) in programs.items()})


def load_rewritten(folder, texts: dict) -> dict:
    """name -> (original module, rewritten module, rewrite result) for programs `texts` (name -> source)."""
    from rewriter.pipeline import rewrite_source

    out = {}
    for name, text in texts.items():
        result = rewrite_source(text, f"{name}.py")
        out[name] = (load_module(folder, text), load_module(folder, result.new), result)
    return out


def outcome(fn, *args):
    """("ok", result as NumPy) or ("raised", the exception's type name)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return "ok", as_numpy(fn(*args))
        except Exception as exc:  # noqa: BLE001 - raising is an outcome to compare
            return "raised", type(exc).__name__


def as_numpy(value):
    if isinstance(value, (tuple, list)):
        return tuple(as_numpy(v) for v in value)
    if isinstance(value, dict):
        return {k: as_numpy(v) for k, v in value.items()}
    return np.asarray(getattr(value, "numpy", lambda: value)())


def mismatch(want, got, rtol=1e-6, ulps_of_largest=0) -> str:
    """Why the rewrite's outcome differs from the original's ("" when it does not). Floats of
    16 bits or more agree to `rtol` (NumPy and TF may round reductions differently); with
    `ulps_of_largest`, elements near zero may also differ by that many ulps of the output's
    largest magnitude (what a regrouped sum loses to cancellation; the corpus's tolerance)."""
    if want[0] == "raised":
        return ""  # the original rejected this input: whatever the rewrite does is no regression
    if got[0] == "raised":
        return f"the rewrite raised {got[1]} where the original ran"
    return _differs(want[1], got[1], rtol, ulps_of_largest)


def _differs(want, got, rtol, ulps_of_largest=0) -> str:
    if isinstance(want, tuple):
        if not isinstance(got, tuple) or len(got) != len(want):
            return f"{len(want)} outputs, the rewrite gave {got!r:.80}"
        return next((d for d in (_differs(w, g, rtol, ulps_of_largest) for w, g in zip(want, got)) if d), "")
    want, got = np.asarray(want), np.asarray(got)
    if want.dtype != got.dtype or want.shape != got.shape:
        return f"{want.dtype}{list(want.shape)} from the original, {got.dtype}{list(got.shape)} from the rewrite"
    if want.dtype.kind in "fc":
        tolerance = max(rtol, 1e-3 if want.dtype.itemsize <= 2 else rtol)
        finite = np.abs(want[np.isfinite(want)])
        atol = max(tolerance, ulps_of_largest * float(np.finfo(want.dtype).eps) * float(finite.max(initial=0.0)))
        if not np.allclose(want, got, rtol=tolerance, atol=atol, equal_nan=True):
            return f"values differ by up to {np.nanmax(np.abs(want.astype(complex) - got)):.3g}"
        return ""
    return "" if np.array_equal(want, got) else "values differ"


def variants_of(sample: np.ndarray, dtypes=SWEEP_DTYPES):
    """The sample in each dtype (values kept in range of small ints so every dtype holds them),
    and in the ranks around its own: one more leading axis (on its first few items), and one
    fewer (its first item)."""
    out = []
    for dtype in dtypes:
        values = sample
        if np.dtype(dtype).kind in "iub" and sample.dtype.kind in "fc":
            values = np.clip(np.round(sample * 10), 0 if np.dtype(dtype).kind in "ub" else -100, 100)
        out.append((dtype, values.astype(dtype)))
    small = sample[:4] if sample.ndim else sample  # a new axis may meet pairwise code: keep it small
    out.append((f"{sample.dtype}, rank +1", small[np.newaxis]))
    if sample.ndim >= 1 and len(sample):
        out.append((f"{sample.dtype}, rank -1", sample[0]))
    return out


def problems(original, rewritten, cases, wrap=lambda fn: fn) -> list:
    """Why the rewrite's outcome differs from the original's, for each (label, inputs) case,
    both called through `wrap` (e.g. tf.function). Each call gets its own copies: the original
    may update its inputs in place, and a tensor made from an array may share its memory."""
    found = []
    for label, inputs in cases:
        want = outcome(wrap(original), *[np.copy(x) for x in inputs])
        problem = mismatch(want, outcome(wrap(rewritten), *[np.copy(x) for x in inputs]))
        if problem:
            found.append(f"{label}: {problem}")
    return found


def through_dataset_map(tf, program, data):
    """The program mapped over the rows of `data` in a tf.data pipeline, results stacked."""
    return np.stack([x.numpy() for x in tf.data.Dataset.from_tensor_slices(np.copy(data)).map(program)])
