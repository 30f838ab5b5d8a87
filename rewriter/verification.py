"""Check that a TensorFlow rewrite computes what the NumPy original computes.

The checker behind the CLI, the decorator and the tests.  Two entry points:

``verify(numpy_fn, tf_fn, *example_args, ...)``
    Runs the original and the rewrite on the example arguments and on a few
    generated variants of them.  It compares output count, shapes, dtypes
    (exactly) and values (with tolerances derived from the dtype and the
    input size).  With ``grad=True`` it also checks the rewrite's gradient
    (``tf.GradientTape``) against central finite differences of the
    *original*, computed in float64.

``verify_distribution(numpy_sampler, tf_sampler, *args, n=..., seed=...)``
    For rewrites of ``np.random`` calls: compares samples with statistical
    tests (two-sample Kolmogorov-Smirnov for continuous samples, support and
    chi-square for discrete ones).  It reports "same distribution", never
    numerical equality.

Both return a :class:`VerifyResult`.

Inputs
------
NumPy arrays, NumPy scalars and ``tf.Tensor``/``tf.Variable`` arguments are
data.  The rewrite gets them as tensors, the original as NumPy values
(always a fresh copy, so in-place edits by the original do no harm).  The
verifier varies them, and differentiates them if they are floating point.
Python scalars (``int``, ``float``, ``bool``) and any other objects are
*static*: both functions receive them unchanged in every trial, and they are
neither varied nor differentiated.  They usually stand for hyper-parameters,
axes or sizes.  To verify with respect to a scalar, pass ``np.float64(x)``.

Generated variants
------------------
Trial 0 always uses the example arguments.  The other trials (``trials`` in
total, default 4) are the first candidates from this list that the original
accepts:

1. resized: every dimension length ``s >= 2`` becomes ``s + 1``.  Equal
   lengths change together, so coupled dimensions (the inner dimension of a
   matmul) stay consistent.  Dimensions of length 1 are left alone because
   they are usually broadcast dimensions.  The data is fresh and uniform
   over the example's ``[min, max]``.
2. random signs with about 20 % exact zeros;
3. large magnitudes (x 1e3, or x 16 for float16 and bfloat16);
4. fall-backs: resized to ``2 s``, resized one length at a time, fresh data
   of the same shape, some zeros, negated values, small magnitudes.

Integer inputs keep their dtype.  Fresh integer data stays inside the
example's ``[min, max]``, so non-negative stays non-negative and indices
stay below the original maximum + 1.  Integer and boolean inputs keep their
example values in the sign and magnitude variants.  A variant counts only if
the *original* accepts it: a variant on which the original raises, or
returns NaN/inf when the example output was finite, is dropped (``notes``
says how many).  ``domain(args) -> args`` (a callable) maps each raw variant
into the valid domain before use.

Tolerances
----------
Values are close if ``|rewrite - original| <= atol + rtol * |original|``
element-wise.  By default::

    rtol = clip(16 * eps(dtype) * sqrt(N), floor(dtype), cap(dtype))
    atol = rtol * max|original output|        (per output, per trial)

Here ``N`` is the size of the largest array input of the trial, which bounds
how many terms any reduction can add.  The floors and caps are
float64 1e-10 / 1e-7, float32 1e-5 / 1e-4, float16 1e-2 / 5e-2 and
bfloat16 5e-2 / 2e-1.  The float32 cap is chosen to sit below TF32 errors
(see below).  Complex dtypes use the tolerances of their component
type.  An explicit ``rtol`` replaces the derived one, and an explicit
``atol`` replaces the derived one.  ``max_rel_err`` is
``max |rewrite - original| / max(|original|, atol / rtol)``.  Integer, bool
and string outputs must match exactly.  NaN positions and inf positions
(with their signs) must match exactly.  Dtypes must match exactly: a float64
result computed in float32 fails, and so do complex vs real and int64 vs
int32.  The one exception is a Python ``int`` returned by either side: it
matches any integer dtype, because Python ints have no width.

Gradients
---------
The gradient is checked at the example point only.  Floating-point array
inputs are watched as tensors of the *example's* dtype, so a float32 example
is differentiated in float32.  One persistent tape gives the vector-Jacobian
products ``u^T J`` for a random cotangent ``u`` on each floating output.
Each of a few random directions ``v`` then compares ``u^T J v`` from the
tape with central differences of the original, evaluated in float64 with
step ``eps * v``.  ``v`` is scaled element-wise by ``|x|``, and ``eps`` is
1e-6, falling back to 1e-3 when the small step is numerically unstable.
Larger steps are used when the original rounds its outputs to float32 or
float16 even when it is given float64 inputs.
Richardson extrapolation over ``eps`` and ``eps / 2`` gives the estimate.
A direction is skipped, not failed, where the original is not differentiable
along it: a kink (abs at 0, relu, clip bounds, sort ties) shows up as a
second difference that does not shrink with the step.  Before giving up on
such a direction, the verifier retries it without the elements that usually
sit on kinks: exact zeros, other integral values and repeated values.  A
direction is also skipped where the finite differences themselves are
unstable.  If every direction is skipped, ``grad_ok`` is None and
``grad_skipped`` says why.  A ``None``
gradient for an input the original depends on (``tf.stop_gradient``, ops
with no gradient path) is a failure.  So is a gradient that disagrees with
the finite differences (for example a wrong ``tf.custom_gradient``).
``grad_err`` is the largest relative disagreement.  Integer, bool and
complex inputs and outputs are left out and named in ``grad_skipped``.

Devices and TF32
----------------
``device=None`` runs the rewrite on the first GPU TensorFlow sees, or on
the CPU if there is none.  ``device="/GPU:0"`` (or ``"CPU:0"``, or a full
device name) forces a device, and an unknown device raises ``ValueError``.
``VerifyResult.device`` is read from the rewrite's output tensor, so it says
where the rewrite actually ran.

On Ampere and newer NVIDIA GPUs, TensorFlow runs float32 matmuls and
convolutions in TF32 (10-bit mantissa) by default; see
``tf.config.experimental.enable_tensor_float_32_execution``.  In
verification this shows up as float32 matmul errors of about 1e-3 relative
(about 3e-4 of the largest output element).  The float32 tolerance above
does **not** cover that: the verifier reports such rewrites as failing.
When the device is a GPU and TF32 is enabled, a failing result says so
(in ``notes``, printed by ``str()``) and suggests calling
``tf.config.experimental.enable_tensor_float_32_execution(False)`` before
verifying.  Alternatively, pass a looser ``rtol``.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import warnings
from typing import Any, Callable

import numpy as np
import tensorflow as tf

__all__ = ["VerifyResult", "verify", "verify_distribution"]

DEFAULT_TRIALS = 4
GRAD_DIRECTIONS = 3

# dtype name -> (machine epsilon, rtol floor, rtol cap)
_VALUE_TOL = {
    "float64": (2.0**-52, 1e-10, 1e-7),
    "float32": (2.0**-23, 1e-5, 1e-4),
    "float16": (2.0**-10, 1e-2, 5e-2),
    "bfloat16": (2.0**-7, 5e-2, 2e-1),
}
# gradient tolerance (relative), by the lowest precision the rewrite runs in
_GRAD_TOL = {"float64": 1e-6, "float32": 2e-3, "float16": 5e-2, "bfloat16": 1e-1}
_PRECISION_ORDER = ["float64", "float32", "float16", "bfloat16"]


# --------------------------------------------------------------------------
# result type
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify` or :func:`verify_distribution`.

    ``kind`` is ``"values"`` for :func:`verify`.  For
    :func:`verify_distribution` it is ``"distribution"``: there
    ``values_ok`` means "same distribution" (not equal numbers),
    ``max_abs_err``/``max_rel_err`` are NaN, ``trials`` is the number of
    samples per side, and ``statistic``/``critical`` hold the test statistic
    and critical value of the worst output.
    """

    values_ok: bool
    grad_ok: bool | None
    max_abs_err: float
    max_rel_err: float
    grad_err: float | None
    device: str
    trials: int
    failures: tuple[str, ...] = ()
    grad_skipped: str | None = None
    notes: tuple[str, ...] = ()
    kind: str = "values"
    statistic: float | None = None
    critical: float | None = None

    @property
    def ok(self) -> bool:
        return bool(self.values_ok) and self.grad_ok is not False

    def to_dict(self) -> dict:
        def clean(x):
            if isinstance(x, float) and not math.isfinite(x):
                return None
            if isinstance(x, tuple):
                return [clean(y) for y in x]
            return x

        d = {f.name: clean(getattr(self, f.name)) for f in dataclasses.fields(self)}
        d["ok"] = self.ok
        return d

    def __str__(self) -> str:
        status = "OK" if self.ok else "FAILED"
        if self.kind == "distribution":
            verdict = "same distribution" if self.values_ok else "DIFFERENT distribution"
            head = (
                f"verify_distribution: {status} - {verdict} (statistical test on "
                f"{self.trials} samples per side; not a claim of numerical equality); "
                f"device {self.device}"
            )
            lines = [head]
            if self.statistic is not None:
                lines.append(
                    f"  worst statistic {self.statistic:.4g} vs critical value {self.critical:.4g}"
                )
        else:
            v = "ok" if self.values_ok else "FAIL"
            g = {True: "ok", False: "FAIL", None: "not checked"}[self.grad_ok]
            lines = [
                f"verify: {status} - values {v}, gradient {g}; device {self.device}; "
                f"{self.trials} trial(s)"
            ]
            errs = f"  max abs err {self.max_abs_err:.3g}, max rel err {self.max_rel_err:.3g}"
            if self.grad_err is not None:
                errs += f", gradient rel err {self.grad_err:.3g}"
            lines.append(errs)
        if self.grad_skipped and self.kind != "distribution":
            lines.append(f"  gradient skipped: {self.grad_skipped}")
        lines.extend(f"  FAIL: {f}" for f in self.failures)
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


def _quiet_call(fn, *args):
    """Call ``fn`` with NumPy floating-point warnings silenced."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args)


def _is_tensor(x) -> bool:
    return isinstance(x, (tf.Tensor, tf.Variable))


def _dtype_name(dt) -> str:
    return np.dtype(dt).name


def _is_real_float(dt) -> bool:
    name = _dtype_name(dt)
    return name in _VALUE_TOL


def _is_complex(dt) -> bool:
    return np.dtype(dt).kind == "c"


def _kind(dt) -> str:
    """``dtype.kind``, except that bfloat16 (an ml_dtypes extension type) is 'f'."""
    dt = np.dtype(dt)
    return "f" if dt.name in _VALUE_TOL else dt.kind


def _component_name(dt) -> str:
    """float dtype name used for tolerances (complex -> component type)."""
    name = _dtype_name(dt)
    if name == "complex64":
        return "float32"
    if name == "complex128":
        return "float64"
    return name if name in _VALUE_TOL else "float64"


def _fmt_idx(idx) -> str:
    idx = tuple(int(i) for i in idx)
    return "()" if not idx else "(" + ", ".join(map(str, idx)) + ")"


def _short(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    first = msg[0] if msg else ""
    if len(first) > 200:
        first = first[:200] + "..."
    return f"{type(exc).__name__}: {first}"


def _resolve_device(device: str | None) -> str:
    logical = tf.config.list_logical_devices()
    if device is None:
        gpus = [d for d in logical if d.device_type == "GPU"]
        cpus = [d for d in logical if d.device_type == "CPU"]
        return (gpus or cpus or logical)[0].name
    if not isinstance(device, str) or not device.strip():
        raise ValueError(f"device must be a device string such as '/CPU:0', got {device!r}")
    text = device.strip()
    try:
        spec = tf.DeviceSpec.from_string(text if text.startswith("/") else "/" + text)
    except Exception:
        spec = None
    if spec is not None and spec.device_type:
        want_type = spec.device_type.upper()
        want_index = spec.device_index if spec.device_index is not None else 0
        for d in logical:
            ds = tf.DeviceSpec.from_string(d.name)
            if ds.device_type.upper() == want_type and (ds.device_index or 0) == want_index:
                return d.name
    available = ", ".join(d.name for d in logical) or "none"
    raise ValueError(f"unknown device {device!r}; TensorFlow sees: {available}")


# --------------------------------------------------------------------------
# arguments
# --------------------------------------------------------------------------

_DATA_KINDS = ("array", "npscalar", "tensor")


def _classify(args) -> tuple[list[str], list[Any]]:
    kinds, values = [], []
    for a in args:
        if _is_tensor(a):
            kinds.append("tensor")
            values.append(np.array(a.numpy()))
        elif isinstance(a, (tf.RaggedTensor, tf.SparseTensor)):
            raise TypeError(f"verify does not support {type(a).__name__} arguments")
        elif isinstance(a, np.ndarray):
            kinds.append("array")
            values.append(a)
        elif isinstance(a, np.generic):
            kinds.append("npscalar")
            values.append(a)
        else:
            kinds.append("static")
            values.append(a)
    return kinds, values


def _np_call_args(kinds, values):
    out = []
    for k, v in zip(kinds, values):
        if k in ("array", "tensor"):
            out.append(np.array(v, copy=True))
        else:
            out.append(v)
    return out


def _tf_call_args(kinds, values):
    return [tf.constant(v) if k in _DATA_KINDS else v for k, v in zip(kinds, values)]


def _describe_args(kinds, values) -> str:
    parts = []
    for i, (k, v) in enumerate(zip(kinds, values)):
        if k in _DATA_KINDS:
            arr = np.asarray(v)
            parts.append(f"#{i} {tuple(arr.shape)} {arr.dtype.name}")
        else:
            shown = f" {v!r}" if isinstance(v, (int, float, bool)) else ""
            parts.append(f"#{i} {type(v).__name__}{shown}")
    return ", ".join(parts)


# --------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------


def _leaves(out, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(out, (tuple, list)):
        res = []
        for i, o in enumerate(out):
            res.extend(_leaves(o, f"{path}[{i}]" if path else str(i)))
        return res
    if isinstance(out, dict):
        res = []
        for key in sorted(out, key=repr):
            res.extend(_leaves(out[key], f"{path}[{key!r}]" if path else repr(key)))
        return res
    return [(path or "0", out)]


@dataclasses.dataclass
class _Leaf:
    path: str
    value: Any  # numpy array, or None
    dtype: np.dtype | None
    pyint: bool  # a Python int (matches any integer dtype)
    device: str | None = None


def _np_leaf(path, x) -> _Leaf:
    if x is None:
        return _Leaf(path, None, None, False)
    pyint = isinstance(x, int) and not isinstance(x, (bool, np.generic))
    arr = np.asarray(x)
    return _Leaf(path, arr, arr.dtype, pyint)


def _tf_leaf(path, x) -> _Leaf:
    if _is_tensor(x):
        arr = np.asarray(x.numpy())
        try:
            dev = x.device
        except Exception:  # pragma: no cover - symbolic tensors
            dev = None
        return _Leaf(path, arr, np.dtype(x.dtype.as_numpy_dtype), False, dev or None)
    if isinstance(x, (tf.RaggedTensor, tf.SparseTensor, tf.IndexedSlices)):
        raise TypeError(f"unsupported rewrite output type {type(x).__name__} at output {path}")
    return _np_leaf(path, x)


# --------------------------------------------------------------------------
# value comparison
# --------------------------------------------------------------------------


def _derived_rtol(dtype, n_reduce: int) -> float:
    eps, floor, cap = _VALUE_TOL[_component_name(dtype)]
    return float(min(max(16.0 * eps * math.sqrt(max(n_reduce, 1)), floor), cap))


def _as_real_pairs(a: np.ndarray) -> np.ndarray:
    if np.iscomplexobj(a):
        return np.stack([a.real, a.imag], axis=-1).astype(np.float64)
    return a.astype(np.float64)


def _positions(mask: np.ndarray, limit: int = 3) -> list[tuple]:
    return [tuple(int(i) for i in ix) for ix in np.argwhere(mask)[:limit]]


def _compare_leaf(e: _Leaf, a: _Leaf, n_reduce: int, rtol, atol):
    """Return (problems: list[(category, message)], max_abs, max_rel)."""
    problems: list[tuple[str, str]] = []
    if e.value is None or a.value is None:
        if (e.value is None) != (a.value is None):
            problems.append((
                "structure",
                f"original returned {'None' if e.value is None else 'a value'}, "
                f"rewrite {'None' if a.value is None else 'a value'}",
            ))
        return problems, 0.0, 0.0
    ev, av = e.value, a.value
    if ev.shape != av.shape:
        problems.append(
            ("shape", f"shape mismatch: original {tuple(ev.shape)}, rewrite {tuple(av.shape)}")
        )
        return problems, 0.0, 0.0
    edt, adt = e.dtype, a.dtype
    int_ok = (e.pyint and _kind(adt) in "iu") or (a.pyint and _kind(edt) in "iu")
    if edt != adt and not int_ok:
        hint = ""
        if _kind(edt) == _kind(adt) == "f" and adt.itemsize < edt.itemsize:
            hint = " (rewrite computes in lower precision)"
        elif (_kind(edt) == "c") != (_kind(adt) == "c"):
            hint = " (complex vs real)"
        problems.append(("dtype", f"dtype mismatch: original {edt.name}, rewrite {adt.name}{hint}"))

    numeric_kinds = "biufc"
    if _kind(edt) not in numeric_kinds or _kind(adt) not in numeric_kinds:
        if not np.array_equal(ev, av):
            problems.append(("value", "values differ (non-numeric output compared exactly)"))
        return problems, 0.0, 0.0

    if ev.size == 0:
        return problems, 0.0, 0.0

    exact = _kind(edt) in "biu" and _kind(adt) in "biu"
    if exact:
        diff = np.abs(ev.astype(np.float64) - av.astype(np.float64))
        bad = ev.astype(np.float64) != av.astype(np.float64)
        max_abs = float(diff.max())
        denom = np.maximum(np.abs(ev.astype(np.float64)), 1.0)
        max_rel = float((diff / denom).max())
        if bad.any():
            pos = _positions(bad)
            first = pos[0]
            problems.append((
                "value",
                f"value mismatch (exact comparison for {edt.name}): {int(bad.sum())} of "
                f"{ev.size} elements differ, first at index {_fmt_idx(first)}: "
                f"original {ev[first].item()!r}, rewrite {av[first].item()!r}",
            ))
        return problems, max_abs, max_rel

    # floating point (one side may be int / bool if dtypes mismatched)
    tol_dtype = edt if _kind(edt) in "fc" else adt
    e64, a64 = _as_real_pairs(ev), _as_real_pairs(av)
    if e64.shape != a64.shape:  # complex vs real: compare real parts with imag of the real side as 0
        if e64.ndim > ev.ndim:
            a64 = np.stack([a64, np.zeros_like(a64)], axis=-1)
        else:
            e64 = np.stack([e64, np.zeros_like(e64)], axis=-1)
    nan_e, nan_a = np.isnan(e64), np.isnan(a64)
    if (nan_e != nan_a).any():
        mism = nan_e != nan_a
        if e64.ndim > ev.ndim:
            mism = mism.any(axis=-1)
        pos = _positions(mism)
        shown = ", ".join(
            f"{_fmt_idx(p)} original {ev[p].item()!r} rewrite {av[p].item()!r}" for p in pos
        )
        problems.append(("nan", f"NaN positions differ at {int(mism.sum())} element(s): {shown}"))
    inf_e = np.where(np.isinf(e64), np.sign(e64), 0.0)
    inf_a = np.where(np.isinf(a64), np.sign(a64), 0.0)
    if (inf_e != inf_a).any():
        mism = inf_e != inf_a
        if e64.ndim > ev.ndim:
            mism = mism.any(axis=-1)
        pos = _positions(mism)
        shown = ", ".join(
            f"{_fmt_idx(p)} original {ev[p].item()!r} rewrite {av[p].item()!r}" for p in pos
        )
        problems.append(("inf", f"inf positions/signs differ at {int(mism.sum())} element(s): {shown}"))

    finite = np.isfinite(e64) & np.isfinite(a64)
    if not finite.any():
        return problems, 0.0, 0.0
    ef, af = np.where(finite, e64, 0.0), np.where(finite, a64, 0.0)
    diff = np.abs(af - ef)
    scale = float(np.abs(ef).max())
    if scale == 0.0:
        scale = 1.0
    r = float(rtol) if rtol is not None else _derived_rtol(tol_dtype, n_reduce)
    t_abs = float(atol) if atol is not None else r * scale
    allowed = t_abs + r * np.abs(ef)
    bad = finite & (diff > allowed)
    floor = t_abs / r if r > 0 else 0.0
    rel = diff / np.maximum(np.maximum(np.abs(ef), floor), np.finfo(np.float64).tiny)
    max_abs = float(diff.max())
    max_rel = float(rel.max())
    if bad.any():
        if e64.ndim > ev.ndim:  # complex: report by element
            bad_el = bad.any(axis=-1)
            worst_el = np.unravel_index(int(np.argmax(np.where(bad, diff, -1).max(axis=-1))), ev.shape)
        else:
            bad_el = bad
            worst_el = np.unravel_index(int(np.argmax(np.where(bad, diff, -1.0))), ev.shape)
        problems.append((
            "value",
            f"value mismatch: {int(bad_el.sum())} of {ev.size} elements outside tolerance "
            f"(rtol={r:.3g}, atol={t_abs:.3g}); max abs err {max_abs:.3g}, max rel err {max_rel:.3g}; "
            f"worst at index {_fmt_idx(worst_el)}: original {ev[worst_el].item()!r}, "
            f"rewrite {av[worst_el].item()!r}",
        ))
    return problems, max_abs, max_rel


# --------------------------------------------------------------------------
# variant generation
# --------------------------------------------------------------------------


def _fresh(v: np.ndarray, shape, rng: np.random.Generator) -> np.ndarray:
    """New data of ``v``'s dtype and ``shape``, in the range ``v`` spans."""
    dt = v.dtype
    if _kind(dt) == "b":
        p = float(v.mean()) if v.size else 0.5
        return rng.random(shape) < p
    if _kind(dt) in "iu":
        if v.size:
            lo, hi = int(v.min()), int(v.max())
        else:
            lo, hi = 0, 1
        return rng.integers(lo, hi + 1, size=shape, endpoint=False).astype(dt)
    if _kind(dt) == "c":
        re = _fresh(np.ascontiguousarray(v.real), shape, rng)
        im = _fresh(np.ascontiguousarray(v.imag), shape, rng)
        return (re + 1j * im).astype(dt)
    if _kind(dt) == "f":
        vv = v.astype(np.float64)
        fin = vv[np.isfinite(vv)]
        if fin.size == 0:
            return rng.standard_normal(shape).astype(dt)
        lo, hi = float(fin.min()), float(fin.max())
        if hi == lo:
            if lo > 0:
                lo, hi = 0.5 * lo, 1.5 * lo
            elif lo < 0:
                lo, hi = 1.5 * lo, 0.5 * lo
            else:
                lo, hi = -1.0, 1.0
        return (lo + (hi - lo) * rng.random(shape)).astype(dt)
    return np.resize(v, shape)


def _transform_floats(values, kinds, fn) -> list:
    out = []
    for k, v in zip(kinds, values):
        if k in _DATA_KINDS and _kind(np.asarray(v).dtype) in "fc":
            arr = np.asarray(v)
            new = np.asarray(fn(arr)).astype(arr.dtype)
            out.append(arr.dtype.type(new) if k == "npscalar" else new)
        else:
            out.append(v)
    return out


def _resized(values, kinds, mapping, rng) -> list:
    out = []
    for k, v in zip(kinds, values):
        if k in _DATA_KINDS:
            arr = np.asarray(v)
            shape = tuple(mapping.get(d, d) for d in arr.shape)
            new = _fresh(arr, shape, rng)
            out.append(arr.dtype.type(new) if k == "npscalar" else new)
        else:
            out.append(v)
    return out


def _candidates(kinds, values, rng):
    """Yield (label, values) variants, in order of preference."""
    data = [np.asarray(v) for k, v in zip(kinds, values) if k in _DATA_KINDS]
    if not data:
        return
    has_float = any(_kind(a.dtype) in "fc" and a.size for a in data)
    sizes = sorted({d for a in data for d in a.shape if d >= 2})

    def large_factor(a):
        return 16.0 if _component_name(a.dtype) in ("float16", "bfloat16") else 1e3

    def signs_zeros(a):
        s = np.where(rng.random(a.shape) < 0.5, -1.0, 1.0)
        z = rng.random(a.shape) < 0.2
        return np.where(z, 0, a * s)

    def zeros_only(a):
        return np.where(rng.random(a.shape) < 0.2, 0, a)

    mappings = []
    if sizes:
        for grow in (lambda s: s + 1, lambda s: 2 * s):
            m = {s: grow(s) for s in sizes}
            mappings.append((m, "sizes " + ", ".join(f"{s}->{t}" for s, t in m.items())))
        if len(sizes) > 1:
            for s in sizes:
                mappings.append(({s: s + 1}, f"size {s}->{s + 1}"))

    if mappings:
        m, label = mappings[0]
        yield f"resized ({label})", _resized(values, kinds, m, rng)
    if has_float:
        yield "random signs and zeros", _transform_floats(values, kinds, signs_zeros)
        yield "large magnitudes", _transform_floats(values, kinds, lambda a: a * large_factor(a))
    for m, label in mappings[1:]:
        yield f"resized ({label})", _resized(values, kinds, m, rng)
    yield "fresh values", _resized(values, kinds, {}, rng)
    if has_float:
        yield "some zeros", _transform_floats(values, kinds, zeros_only)
        yield "negated", _transform_floats(values, kinds, lambda a: -a)
        yield "small magnitudes", _transform_floats(values, kinds, lambda a: a / large_factor(a))


def _apply_domain(domain, kinds, values, example_values):
    res = domain(tuple(values))
    if not isinstance(res, (tuple, list)) or len(res) != len(values):
        raise ValueError("domain(args) must return a tuple/list of the same length as args")
    out = []
    for k, v, ex in zip(kinds, res, example_values):
        if k in _DATA_KINDS:
            dt = np.asarray(ex).dtype
            arr = np.asarray(v).astype(dt)
            out.append(dt.type(arr) if k == "npscalar" else arr)
        else:
            out.append(v)
    return out


def _all_finite(leaves: list[_Leaf]) -> bool:
    for lf in leaves:
        if lf.value is not None and _kind(lf.value.dtype) in "fc" and not np.isfinite(lf.value).all():
            return False
    return True


# --------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------


class _FailureLog:
    """Collects failures, merging the same problem seen in several trials."""

    def __init__(self):
        self._order: list[tuple] = []
        self._msg: dict[tuple, str] = {}
        self._trials: dict[tuple, list[int]] = {}

    def add(self, key: tuple, trial: int | None, msg: str):
        if key not in self._msg:
            self._order.append(key)
            self._msg[key] = msg
            self._trials[key] = []
        if trial is not None and trial not in self._trials[key]:
            self._trials[key].append(trial)

    def __bool__(self):
        return bool(self._order)

    def messages(self) -> tuple[str, ...]:
        out = []
        for key in self._order:
            msg = self._msg[key]
            extra = self._trials[key][1:]
            if extra:
                msg += f" (also in trial{'s' if len(extra) > 1 else ''} {', '.join(map(str, extra))})"
            out.append(msg)
        return tuple(out)


def verify(
    numpy_fn: Callable,
    tf_fn: Callable,
    *example_args,
    grad: bool = True,
    device: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    trials: int | None = None,
    domain: Callable | None = None,
    seed: int = 0,
) -> VerifyResult:
    """Check that ``tf_fn`` computes what ``numpy_fn`` computes.

    See the module docstring for how variants, tolerances and gradients are
    chosen.  Raises ``ValueError`` for an unknown ``device`` or if the
    original raises on the example arguments.  The result is failing if the
    rewrite raises, and the exception is recorded in the failures.
    """
    dev = _resolve_device(device)
    n_trials = DEFAULT_TRIALS if trials is None else int(trials)
    if n_trials < 1:
        raise ValueError("trials must be >= 1")
    if domain is not None and not callable(domain):
        raise ValueError("domain must be a callable domain(args) -> args")
    rng = np.random.default_rng(seed)
    kinds, ex_values = _classify(example_args)

    # ---- original on the example ------------------------------------------
    try:
        ex_out = _quiet_call(numpy_fn, *_np_call_args(kinds, ex_values))
    except Exception as exc:
        raise ValueError(f"the original raised on the example arguments: {_short(exc)}") from exc
    ex_leaves = [_np_leaf(p, x) for p, x in _leaves(ex_out)]
    ex_finite = _all_finite(ex_leaves)

    # ---- choose trials ----------------------------------------------------
    chosen: list[tuple[str, list, list[_Leaf]]] = [("example", ex_values, ex_leaves)]
    dropped: list[str] = []
    if n_trials > 1:
        for label, vals in _candidates(kinds, ex_values, rng):
            if len(chosen) >= n_trials:
                break
            if domain is not None:
                vals = _apply_domain(domain, kinds, vals, ex_values)
            try:
                out = _quiet_call(numpy_fn, *_np_call_args(kinds, vals))
                leaves = [_np_leaf(p, x) for p, x in _leaves(out)]
            except Exception as exc:
                dropped.append(f"{label} (original raised {type(exc).__name__})")
                continue
            if ex_finite and not _all_finite(leaves):
                dropped.append(f"{label} (original returned NaN/inf)")
                continue
            chosen.append((label, vals, leaves))

    # ---- run the rewrite and compare ----------------------------------------
    log = _FailureLog()
    max_abs = 0.0
    max_rel = 0.0
    actual_device: str | None = None
    tf_ex_leaves: list[_Leaf] | None = None
    for t, (label, vals, e_leaves) in enumerate(chosen):
        where = f"trial {t} ({label}; inputs {_describe_args(kinds, vals)})"
        try:
            with tf.device(dev):
                out = tf_fn(*_tf_call_args(kinds, vals))
            a_leaves = [_tf_leaf(p, x) for p, x in _leaves(out)]
        except Exception as exc:
            log.add(("raise", type(exc).__name__), t, f"{where}: rewrite raised {_short(exc)}")
            continue
        if t == 0:
            tf_ex_leaves = a_leaves
        if actual_device is None:
            actual_device = next((lf.device for lf in a_leaves if lf.device), None)
        if len(a_leaves) != len(e_leaves):
            log.add(("count",), t,
                    f"{where}: output count mismatch: original returned {len(e_leaves)} output(s), "
                    f"rewrite {len(a_leaves)}")
            continue
        if [lf.path for lf in e_leaves] != [lf.path for lf in a_leaves]:
            log.add(("structure",), t,
                    f"{where}: output structure differs: original {[lf.path for lf in e_leaves]}, "
                    f"rewrite {[lf.path for lf in a_leaves]}")
            continue
        n_reduce = max([np.asarray(v).size for k, v in zip(kinds, vals) if k in _DATA_KINDS] or [1])
        for e, a in zip(e_leaves, a_leaves):
            problems, ma, mr = _compare_leaf(e, a, n_reduce, rtol, atol)
            max_abs = max(max_abs, ma)
            max_rel = max(max_rel, mr)
            for cat, msg in problems:
                log.add((e.path, cat), t, f"output {e.path}: {msg} - {where}")
    values_ok = not log

    # ---- gradients ----------------------------------------------------------
    grad_ok: bool | None = None
    grad_err: float | None = None
    grad_skipped: str | None = None
    grad_notes: list[str] = []
    if not grad:
        grad_skipped = "grad=False"
    elif tf_ex_leaves is None:
        grad_skipped = "the rewrite raised on the example"
    elif len(tf_ex_leaves) != len(ex_leaves) or any(
        (e.value is None) != (a.value is None)
        or (e.value is not None and e.value.shape != a.value.shape)
        for e, a in zip(ex_leaves, tf_ex_leaves)
    ):
        grad_skipped = "outputs on the example do not match in number or shape"
    else:
        grad_ok, grad_err, grad_skipped, gfails, grad_notes = _check_grad(
            numpy_fn, tf_fn, kinds, ex_values, ex_leaves, tf_ex_leaves, dev, rng
        )
        for msg in gfails:
            log.add(("grad", msg), None, msg)

    notes: list[str] = []
    if dropped:
        notes.append(
            f"{len(dropped)} generated variant(s) dropped because the original rejects them: "
            + "; ".join(dropped)
        )
    notes.extend(grad_notes)
    device_str = actual_device or dev
    ok = values_ok and grad_ok is not False
    if not ok and "GPU" in device_str.upper():
        try:
            tf32 = tf.config.experimental.tensor_float_32_execution_enabled()
        except Exception:  # pragma: no cover
            tf32 = False
        if tf32:
            notes.append(
                "TF32 is enabled on this GPU: float32 matmuls/convolutions run with a 10-bit mantissa "
                "(errors around 1e-3 relative), which the float32 tolerance does not cover; call "
                "tf.config.experimental.enable_tensor_float_32_execution(False) before verifying, "
                "or pass a looser rtol"
            )
    return VerifyResult(
        values_ok=values_ok,
        grad_ok=grad_ok,
        max_abs_err=max_abs,
        max_rel_err=max_rel,
        grad_err=grad_err,
        device=device_str,
        trials=len(chosen),
        failures=log.messages(),
        grad_skipped=grad_skipped,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------
# gradient check
# --------------------------------------------------------------------------


def _check_grad(numpy_fn, tf_fn, kinds, values, np_leaves, tf_leaves, dev, rng):
    """Return (grad_ok, grad_err, grad_skipped, failures, notes)."""
    skipped: list[str] = []
    notes: list[str] = []
    diff_in: list[int] = []
    for i, (k, v) in enumerate(zip(kinds, values)):
        if k == "static":
            if isinstance(v, (bool, int, float, complex)):
                skipped.append(f"input {i} is a Python {type(v).__name__} (treated as a constant)")
            continue
        dt = np.asarray(v).dtype
        if _is_real_float(dt):
            if np.asarray(v).size:
                diff_in.append(i)
        elif _is_complex(dt):
            skipped.append(f"input {i} ({dt.name}): complex gradients are not checked")
        else:
            skipped.append(f"input {i} ({dt.name}): integer/bool input, not differentiable")
    diff_out: list[int] = []
    for k, (e, a) in enumerate(zip(np_leaves, tf_leaves)):
        if e.value is None:
            continue
        if _is_real_float(e.dtype) and _is_real_float(a.dtype):
            if e.value.size:
                diff_out.append(k)
        elif _is_complex(e.dtype) or _is_complex(a.dtype):
            skipped.append(f"output {e.path} (complex): complex gradients are not checked")
        else:
            skipped.append(
                f"output {e.path} ({a.dtype.name if a.dtype is not None else 'object'}): "
                "integer/bool output, not differentiable"
            )
    if not diff_in or not diff_out:
        why = f"no non-empty floating-point {'inputs' if not diff_in else 'outputs'}"
        return None, None, "; ".join([why] + skipped), [], notes

    skipped_text = "; ".join(skipped) or None
    precision = max(
        [_component_name(np.asarray(values[i]).dtype) for i in diff_in]
        + [_component_name(tf_leaves[k].dtype) for k in diff_out],
        key=_PRECISION_ORDER.index,
    )
    gtol = _GRAD_TOL[precision]

    # masks of finite example outputs; cotangents
    masks = {}
    cot = {}
    for k in diff_out:
        ev = np_leaves[k].value.astype(np.float64)
        av = tf_leaves[k].value.astype(np.float64)
        m = np.isfinite(ev) & np.isfinite(av)
        masks[k] = m
        cot[k] = np.where(m, rng.standard_normal(ev.shape), 0.0)
    outputs_nonfinite = not all(m.all() for m in masks.values())

    # ---- tape -----------------------------------------------------------------
    failures: list[str] = []
    try:
        with tf.device(dev):
            targs = _tf_call_args(kinds, values)
            watched = {i: targs[i] for i in diff_in}
            with tf.GradientTape(persistent=True) as tape:
                for x in watched.values():
                    tape.watch(x)
                out = tf_fn(*targs)
                leaves = [x for _, x in _leaves(out)]
                losses = {}
                for k in diff_out:
                    y = leaves[k]
                    if not _is_tensor(y):
                        losses[k] = None
                        continue
                    yk = tf.cast(y, tf.float64)
                    losses[k] = tf.reduce_sum(yk * tf.constant(cot[k], dtype=tf.float64))
            G: dict[int, dict[int, np.ndarray | None]] = {}
            for k in diff_out:
                G[k] = {}
                for i in diff_in:
                    if losses[k] is None:
                        G[k][i] = None
                        continue
                    g = tape.gradient(losses[k], watched[i])
                    if g is None:
                        G[k][i] = None
                    else:
                        G[k][i] = np.asarray(tf.convert_to_tensor(g).numpy(), dtype=np.float64)
            del tape
    except Exception as exc:
        failures.append(f"gradient: the rewrite's gradient could not be computed: {_short(exc)}")
        return False, None, skipped_text, failures, notes

    for k in diff_out:
        for i in diff_in:
            g = G[k][i]
            if g is not None and not np.isfinite(g).all():
                if outputs_nonfinite:
                    G[k][i] = np.where(np.isfinite(g), g, 0.0)
                    notes.append(f"non-finite gradient entries of output {np_leaves[k].path} w.r.t. "
                                 f"input {i} ignored (the outputs contain NaN/inf)")
                else:
                    pos = _positions(~np.isfinite(g))
                    failures.append(
                        f"gradient of output {np_leaves[k].path} w.r.t. input {i} contains NaN/inf "
                        f"(e.g. at {_fmt_idx(pos[0])}) while the outputs are finite"
                    )
    if failures:
        return False, None, skipped_text, failures, notes

    # ---- finite differences of the original, in float64 -------------------------
    x0 = {i: np.asarray(values[i], dtype=np.float64) for i in diff_in}

    def F(xs: dict[int, np.ndarray]):
        vals = list(values)
        for i in diff_in:
            vals[i] = np.float64(xs[i]) if kinds[i] == "npscalar" else np.array(xs[i], copy=True)
        try:
            out = _quiet_call(numpy_fn, *_np_call_args(kinds, vals))
        except Exception:
            return None
        lv = [x for _, x in _leaves(out)]
        if len(lv) != len(np_leaves):
            return None
        res = {}
        for k in diff_out:
            name = np.asarray(lv[k]).dtype.name
            if name in _VALUE_TOL:
                out_eps[0] = max(out_eps[0], _VALUE_TOL[name][0])
            try:
                arr = np.asarray(lv[k], dtype=np.float64)
            except (TypeError, ValueError):
                return None
            if arr.shape != masks[k].shape:
                return None
            arr = np.where(masks[k], arr, 0.0)
            if not np.isfinite(arr).all():
                return None
            res[k] = arr
        return res

    out_eps = [_VALUE_TOL["float64"][0]]  # resolution of the original's outputs in float64 mode
    f0 = F(x0)
    if out_eps[0] <= _VALUE_TOL["float64"][0]:
        steps = (1e-6, 1e-3)
    elif out_eps[0] <= _VALUE_TOL["float32"][0]:
        steps = (1e-3, 1e-2)  # the original rounds its outputs to float32
    else:
        steps = (3e-2, 1e-1)  # ... or to float16 / bfloat16
    if f0 is None:
        return None, None, "; ".join(
            ["the original fails or is non-finite when evaluated in float64 at the example"] + skipped
        ), [], notes

    def norm(d):
        return math.sqrt(sum(float(np.sum(a * a)) for a in d.values()))

    def fd_along(v: dict[int, np.ndarray]):
        """Directional derivative of the original along v, or (None, reason)."""
        reason = "finite differences unstable"
        for eps in steps:
            pts = {}
            for name, h in (("p", eps), ("m", -eps), ("p2", eps / 2), ("m2", -eps / 2)):
                pts[name] = F({i: x0[i] + h * v[i] if i in v else x0[i] for i in diff_in})
                if pts[name] is None:
                    break
            else:
                D1 = {k: (pts["p"][k] - pts["m"][k]) / (2 * eps) for k in diff_out}
                D2 = {k: (pts["p2"][k] - pts["m2"][k]) / eps for k in diff_out}
                dd = norm({k: D1[k] - D2[k] for k in diff_out})
                dn = norm(D2)
                if dd > max(1e-3, 10 * out_eps[0] / eps) * dn + 1e-300:
                    continue
                K1 = norm({k: (pts["p"][k] - 2 * f0[k] + pts["m"][k]) / eps for k in diff_out})
                K2 = norm({k: (pts["p2"][k] - 2 * f0[k] + pts["m2"][k]) / (eps / 2) for k in diff_out})
                if K1 > max(1e-6 * dn, 4 * dd, 1e-300) and K2 > 0.75 * K1:
                    return None, "original not differentiable along the direction (kink)"
                est = {k: (4 * D2[k] - D1[k]) / 3 for k in diff_out}
                return {
                    k: (
                        float(np.sum(cot[k] * est[k])),
                        abs(float(np.sum(cot[k] * (D1[k] - D2[k])))),
                        math.sqrt(float(np.sum(est[k] * est[k]))),
                    )
                    for k in diff_out
                }, None
            reason = "the original fails or is non-finite near the example"
            break
        return None, reason

    def avoid_kinks(v: dict[int, np.ndarray]):
        """``v`` without the elements that commonly sit on kinks: exact zeros and
        other integral values (abs, relu, clip bounds) and repeated values (sort,
        max ties).  None if that removes nothing or everything."""
        out, changed, left = {}, False, False
        for i, vi in v.items():
            flat = x0[i].ravel()
            _, inv, counts = np.unique(flat, return_inverse=True, return_counts=True)
            risky = (flat == np.round(flat)) | (counts[inv.ravel()] > 1)
            changed |= bool(risky.any())
            left |= bool((~risky).any())
            out[i] = vi * (~risky).reshape(vi.shape)
        return out if changed and left else None

    def fd_dir(v: dict[int, np.ndarray]):
        """(fd, direction actually used, skip reason)."""
        fd, reason = fd_along(v)
        if fd is None and not reason.startswith("finite differences unstable"):
            v2 = avoid_kinks(v)
            if v2 is not None:
                fd2, _ = fd_along(v2)
                if fd2 is not None:
                    return fd2, v2, None
        return fd, v, reason

    def tape_along(v: dict[int, np.ndarray], k: int) -> float:
        return float(sum(np.sum(G[k][i] * v[i]) for i in v if G[k][i] is not None))

    def compare(fd, v):
        """list of (k, ok, err, tape, fdval)"""
        res = []
        for k in diff_out:
            fdv, noise, jnorm = fd[k]
            tv = tape_along(v, k)
            denom = max(abs(fdv), abs(tv), jnorm)
            diff = abs(tv - fdv)
            err = diff / denom if denom > 0 else 0.0
            res.append((k, diff <= gtol * denom + 4 * noise, err, tv, fdv))
        return res

    def direction(only: int | None = None):
        v = {}
        for i in diff_in:
            if only is not None and i != only:
                continue
            x = x0[i]
            rms = math.sqrt(float(np.mean(x * x))) if x.size else 0.0
            floor = 1e-3 * rms if rms > 0 else 1.0
            v[i] = rng.standard_normal(x.shape) * np.maximum(np.abs(x), floor)
        return v

    grad_err = 0.0
    checked = 0
    skip_reasons: list[str] = []
    mismatch = False
    for _ in range(GRAD_DIRECTIONS):
        fd, v, reason = fd_dir(direction())
        if fd is None:
            skip_reasons.append(reason)
            continue
        checked += 1
        for k, ok, err, tv, fdv in compare(fd, v):
            grad_err = max(grad_err, err)
            mismatch |= not ok

    if checked == 0:
        reasons = "; ".join(sorted(set(skip_reasons)))
        why = f"all {GRAD_DIRECTIONS} random directions skipped ({reasons})"
        return None, None, "; ".join([why] + skipped), [], notes
    if skip_reasons:
        notes.append(f"{len(skip_reasons)} of {GRAD_DIRECTIONS} gradient directions skipped: "
                     + "; ".join(sorted(set(skip_reasons))))

    if mismatch:
        # attribute to (output, input) pairs with directions restricted to one input
        for i in diff_in:
            fd, vi, reason = fd_dir(direction(only=i))
            if fd is None:
                continue
            for k, ok, err, tv, fdv in compare(fd, vi):
                if ok:
                    continue
                path = np_leaves[k].path
                if all(G[kk][i] is None for kk in diff_out) or G[k][i] is None:
                    failures.append(
                        f"gradient of output {path} w.r.t. input {i} is None (no gradient path "
                        f"in the rewrite, e.g. tf.stop_gradient or a non-TF op), but the original "
                        f"depends on it: finite differences u.J.v = {fdv:.6g}"
                    )
                elif tv == 0.0:
                    failures.append(
                        f"gradient of output {path} w.r.t. input {i} is zero along a random direction "
                        f"(e.g. tf.stop_gradient), finite differences of the original give {fdv:.6g}"
                    )
                else:
                    failures.append(
                        f"gradient mismatch for output {path} w.r.t. input {i}: tape u.J.v = {tv:.6g}, "
                        f"finite differences of the original = {fdv:.6g} (rel err {err:.3g}, "
                        f"tolerance {gtol:.3g})"
                    )
        if not failures:
            failures.append(
                f"gradient mismatch along a random direction over all inputs (rel err {grad_err:.3g}, "
                f"tolerance {gtol:.3g}); no single input reproduces it"
            )
        return False, grad_err, skipped_text, failures, notes
    return True, grad_err, skipped_text, [], notes


# --------------------------------------------------------------------------
# distributions
# --------------------------------------------------------------------------


def _ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    a = np.sort(a)
    b = np.sort(b)
    both = np.concatenate([a, b])
    ca = np.searchsorted(a, both, side="right") / a.size
    cb = np.searchsorted(b, both, side="right") / b.size
    return float(np.max(np.abs(ca - cb)))


def _ks_critical(n: int, m: int, alpha: float) -> float:
    c = math.sqrt(-0.5 * math.log(alpha / 2))
    return c * math.sqrt((n + m) / (n * m))


def _chi2_critical(df: int, alpha: float) -> float:
    """Upper ``alpha`` quantile of chi-square(df), Wilson-Hilferty approximation."""
    z = statistics.NormalDist().inv_cdf(1 - alpha)
    h = 2.0 / (9.0 * df)
    return df * (1 - h + z * math.sqrt(h)) ** 3


def _fmt_val(x) -> str:
    return repr(x.item() if hasattr(x, "item") else x)


def _compare_samples(path, a: np.ndarray, b: np.ndarray, alpha: float):
    """Return (failures, statistic, critical)."""
    fails: list[str] = []
    na, nb = a.size, b.size
    if na == 0 or nb == 0:
        return [f"output {path}: no samples"], None, None
    limit = math.log(1 / alpha)  # expected count above which absence is significant
    if _kind(a.dtype) in "fc":
        nan_a, nan_b = int(np.isnan(a).sum()), int(np.isnan(b).sum())
        if (nan_a == 0) != (nan_b == 0) and max(nan_a / na * nb, nan_b / nb * na) > limit:
            fails.append(
                f"output {path}: NaN frequency differs: original {nan_a}/{na}, rewrite {nan_b}/{nb}"
            )
        a = a[~np.isnan(a)]
        b = b[~np.isnan(b)]
        if a.size == 0 or b.size == 0:
            return fails, None, None
        na, nb = a.size, b.size
    if np.iscomplexobj(a) or np.iscomplexobj(b):
        fails_r, s1, c1 = _compare_samples(path + ".real", np.real(a), np.real(b), alpha)
        fails_i, s2, c2 = _compare_samples(path + ".imag", np.imag(a), np.imag(b), alpha)
        pick = (s1, c1) if (s1 or 0) / (c1 or 1) >= (s2 or 0) / (c2 or 1) else (s2, c2)
        return fails + fails_r + fails_i, pick[0], pick[1]

    ua = np.unique(a)
    ub = np.unique(b)
    union = np.union1d(ua, ub)
    discrete = _kind(a.dtype) in "biu" or (
        union.size <= min(100, (na + nb) // 50) and np.all(np.isfinite(union))
    )
    if discrete:
        ca = np.array([np.count_nonzero(a == x) for x in union], dtype=np.float64)
        cb = np.array([np.count_nonzero(b == x) for x in union], dtype=np.float64)
        only_b = [(x, int(c)) for x, c, c2 in zip(union, cb, ca) if c2 == 0 and c / nb * na > limit]
        only_a = [(x, int(c)) for x, c, c2 in zip(union, ca, cb) if c2 == 0 and c / na * nb > limit]
        if only_a or only_b:
            parts = []
            if only_b:
                parts.append("rewrite produces values the original never produced: "
                             + ", ".join(f"{_fmt_val(x)} (x{c})" for x, c in only_b[:5]))
            if only_a:
                parts.append("original produces values the rewrite never produced: "
                             + ", ".join(f"{_fmt_val(x)} (x{c})" for x, c in only_a[:5]))
            fails.append(
                f"output {path}: support differs ({'; '.join(parts)}); original range "
                f"[{_fmt_val(a.min())}, {_fmt_val(a.max())}], rewrite range [{_fmt_val(b.min())}, "
                f"{_fmt_val(b.max())}] - check inclusive/exclusive bounds"
            )
        # chi-square homogeneity test with pooling of sparse categories
        ea = (ca + cb) * na / (na + nb)
        eb = (ca + cb) * nb / (na + nb)
        big = np.minimum(ea, eb) >= 5
        rows_a, rows_b = list(ca[big]), list(cb[big])
        if (~big).any():
            rows_a.append(float(ca[~big].sum()))
            rows_b.append(float(cb[~big].sum()))
        oa, ob = np.array(rows_a), np.array(rows_b)
        tot = oa + ob
        keep = tot > 0
        oa, ob, tot = oa[keep], ob[keep], tot[keep]
        if oa.size < 2:
            return fails, 0.0, 0.0
        ea = tot * na / (na + nb)
        eb = tot * nb / (na + nb)
        stat = float(np.sum((oa - ea) ** 2 / ea) + np.sum((ob - eb) ** 2 / eb))
        crit = _chi2_critical(oa.size - 1, alpha)
        if stat > crit:
            fails.append(
                f"output {path}: frequencies differ (chi-square {stat:.4g} > critical {crit:.4g}, "
                f"df={oa.size - 1}, alpha={alpha:g})"
            )
        return fails, stat, crit

    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    # support bounds: how many samples of one side fall outside the other's range
    for (x, y, nx, ny, who) in ((b64, a64, nb, na, "rewrite"), (a64, b64, na, nb, "original")):
        lo, hi = y.min(), y.max()
        for count, side in ((int(np.sum(x < lo)), "below"), (int(np.sum(x > hi)), "above")):
            expected = nx / (ny + 1)
            if count > expected + 5 * math.sqrt(expected) + 5:
                fails.append(
                    f"output {path}: support differs: {count} of {nx} {who} samples lie {side} "
                    f"the other side's range [{lo:.6g}, {hi:.6g}] (about {expected:.1f} expected)"
                )
    stat = _ks_statistic(a64, b64)
    crit = _ks_critical(na, nb, alpha)
    if stat > crit:
        fails.append(
            f"output {path}: distributions differ (two-sample KS statistic {stat:.4g} > critical "
            f"{crit:.4g} at alpha={alpha:g}; means {a64.mean():.4g} vs {b64.mean():.4g}, "
            f"stds {a64.std():.4g} vs {b64.std():.4g})"
        )
    return fails, stat, crit


def verify_distribution(
    numpy_sampler: Callable,
    tf_sampler: Callable,
    *args,
    n: int = 20000,
    seed: int = 0,
    alpha: float = 1e-3,
    device: str | None = None,
) -> VerifyResult:
    """Check that a rewritten random sampler draws from the same distribution.

    ``numpy_sampler(*args)`` and ``tf_sampler(*args)`` are called again and
    again until each has produced at least ``n`` samples per output (an
    output's samples are its flattened elements, pooled over calls).  The
    arguments are converted as in :func:`verify`.  ``np.random`` is seeded
    with ``seed`` and restored afterwards.  ``tf.random.set_seed(seed)`` is
    called, which cannot be undone.

    Per output, the call's shape and dtype must match exactly.  Continuous
    samples must also pass a two-sample Kolmogorov-Smirnov test at level
    ``alpha``, and neither side may put clearly more samples outside the
    other's observed range than chance allows.  Discrete samples (integer or
    bool, or floats with few distinct values) need the same support: a
    value drawn often enough on one side and never on the other fails, which
    catches off-by-one bounds.  They also need a chi-square homogeneity test
    on the frequencies to pass.  ``values_ok`` means "same distribution".
    """
    if n < 2:
        raise ValueError("n must be >= 2")
    dev = _resolve_device(device)
    kinds, values = _classify(args)
    log = _FailureLog()

    def draw(fn, tf_side: bool):
        pools: list[list[np.ndarray]] | None = None
        first: list[_Leaf] | None = None
        got = 0
        calls = 0
        devname = None
        while got < n and calls < n:
            if tf_side:
                with tf.device(dev):
                    out = fn(*_tf_call_args(kinds, values))
                leaves = [_tf_leaf(p, x) for p, x in _leaves(out)]
            else:
                out = _quiet_call(fn, *_np_call_args(kinds, values))
                leaves = [_np_leaf(p, x) for p, x in _leaves(out)]
            if first is None:
                first = leaves
                pools = [[] for _ in leaves]
                devname = next((lf.device for lf in leaves if lf.device), None)
            if len(leaves) != len(first):
                raise ValueError("sampler returned a different number of outputs between calls")
            for pool, lf in zip(pools, leaves):
                pool.append(np.ravel(lf.value))
            got = min(sum(p.size for p in pool) for pool in pools) if pools else n
            calls += 1
        samples = [np.concatenate(pool) for pool in pools]
        return first, samples, devname

    state = np.random.get_state()
    try:
        np.random.seed(seed)
        tf.random.set_seed(seed)
        e_first, e_samples, _ = draw(numpy_sampler, False)
    finally:
        np.random.set_state(state)
    try:
        a_first, a_samples, devname = draw(tf_sampler, True)
    except Exception as exc:
        log.add(("raise",), None, f"rewrite raised {_short(exc)}")
        return VerifyResult(False, None, float("nan"), float("nan"), None, dev, n,
                            log.messages(), "distribution check: gradients are not compared",
                            kind="distribution")

    worst = (None, None)
    if len(e_first) != len(a_first):
        log.add(("count",), None,
                f"output count mismatch: original {len(e_first)}, rewrite {len(a_first)}")
    else:
        for e, a, es, as_ in zip(e_first, a_first, e_samples, a_samples):
            if e.value is not None and a.value is not None:
                if e.value.shape != a.value.shape:
                    log.add((e.path, "shape"), None,
                            f"output {e.path}: shape per call differs: original "
                            f"{tuple(e.value.shape)}, rewrite {tuple(a.value.shape)}")
                int_ok = (e.pyint and _kind(a.dtype) in "iu") or (a.pyint and _kind(e.dtype) in "iu")
                if e.dtype != a.dtype and not int_ok:
                    log.add((e.path, "dtype"), None,
                            f"output {e.path}: dtype mismatch: original {e.dtype.name}, "
                            f"rewrite {a.dtype.name}")
            m = min(es.size, as_.size, n)
            fails, stat, crit = _compare_samples(e.path, es[:m], as_[:m], alpha)
            for f in fails:
                log.add((e.path, f), None, f)
            if stat is not None and crit:
                if worst[0] is None or stat / crit > worst[0] / worst[1]:
                    worst = (stat, crit)
    ok = not log
    return VerifyResult(
        values_ok=ok,
        grad_ok=None,
        max_abs_err=float("nan"),
        max_rel_err=float("nan"),
        grad_err=None,
        device=devname or dev,
        trials=n,
        failures=log.messages(),
        grad_skipped="distribution check: gradients are not compared",
        notes=(f"statistical comparison at alpha={alpha:g}; equal distributions, not equal numbers",),
        kind="distribution",
        statistic=worst[0],
        critical=worst[1],
    )
