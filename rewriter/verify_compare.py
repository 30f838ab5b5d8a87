"""Comparing one output of the original with the rewrite's, with tolerances by dtype.

Shape and dtype must match exactly; integer, bool and string values exactly;
NaN and inf positions exactly; floating-point values within
``atol + rtol * |original|``, where ``rtol`` grows with the reduction size
and is clipped to the dtype's floor and cap (see the "Tolerances" section of
`rewriter.verification`).  Each problem comes back as a category and a
message, so `verify` can merge the same problem across trials.
"""

from __future__ import annotations

import math

import numpy as np

from .verify_calls import VALUE_TOL, Leaf, component_name, dtype_kind
from .verify_result import fmt_idx, positions


def _derived_rtol(dtype, n_reduce: int) -> float:
    eps, floor, cap = VALUE_TOL[component_name(dtype)]
    return float(min(max(16.0 * eps * math.sqrt(max(n_reduce, 1)), floor), cap))


def _as_real_pairs(a: np.ndarray) -> np.ndarray:
    if np.iscomplexobj(a):
        return np.stack([a.real, a.imag], axis=-1).astype(np.float64)
    return a.astype(np.float64)


def _elements_differing(mism: np.ndarray, ev: np.ndarray, av: np.ndarray, pairs: bool):
    """``(count, first few shown)`` of the elements where ``mism`` is set; with ``pairs``
    the mask has a trailing (real, imag) axis, and an element differs if either part does."""
    if pairs:
        mism = mism.any(axis=-1)
    shown = ", ".join(
        f"{fmt_idx(p)} original {ev[p].item()!r} rewrite {av[p].item()!r}" for p in positions(mism)
    )
    return int(mism.sum()), shown


def compare_leaf(e: Leaf, a: Leaf, n_reduce: int, rtol, atol):
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
    int_ok = (e.pyint and dtype_kind(adt) in "iu") or (a.pyint and dtype_kind(edt) in "iu")
    if edt != adt and not int_ok:
        hint = ""
        if dtype_kind(edt) == dtype_kind(adt) == "f" and adt.itemsize < edt.itemsize:
            hint = " (rewrite computes in lower precision)"
        elif (dtype_kind(edt) == "c") != (dtype_kind(adt) == "c"):
            hint = " (complex vs real)"
        problems.append(("dtype", f"dtype mismatch: original {edt.name}, rewrite {adt.name}{hint}"))

    numeric_kinds = "biufc"
    if dtype_kind(edt) not in numeric_kinds or dtype_kind(adt) not in numeric_kinds:
        if not np.array_equal(ev, av):
            problems.append(("value", "values differ (non-numeric output compared exactly)"))
        return problems, 0.0, 0.0

    if ev.size == 0:
        return problems, 0.0, 0.0

    exact = dtype_kind(edt) in "biu" and dtype_kind(adt) in "biu"
    if exact:
        diff = np.abs(ev.astype(np.float64) - av.astype(np.float64))
        bad = ev.astype(np.float64) != av.astype(np.float64)
        max_abs = float(diff.max())
        denom = np.maximum(np.abs(ev.astype(np.float64)), 1.0)
        max_rel = float((diff / denom).max())
        if bad.any():
            pos = positions(bad)
            first = pos[0]
            problems.append((
                "value",
                f"value mismatch (exact comparison for {edt.name}): {int(bad.sum())} of "
                f"{ev.size} elements differ, first at index {fmt_idx(first)}: "
                f"original {ev[first].item()!r}, rewrite {av[first].item()!r}",
            ))
        return problems, max_abs, max_rel

    # floating point (one side may be int / bool if dtypes mismatched)
    tol_dtype = edt if dtype_kind(edt) in "fc" else adt
    e64, a64 = _as_real_pairs(ev), _as_real_pairs(av)
    if e64.shape != a64.shape:  # complex vs real: compare real parts with imag of the real side as 0
        if e64.ndim > ev.ndim:
            a64 = np.stack([a64, np.zeros_like(a64)], axis=-1)
        else:
            e64 = np.stack([e64, np.zeros_like(e64)], axis=-1)
    pairs = e64.ndim > ev.ndim  # complex: the last axis holds (real, imag)
    nan_e, nan_a = np.isnan(e64), np.isnan(a64)
    if (nan_e != nan_a).any():
        count, shown = _elements_differing(nan_e != nan_a, ev, av, pairs)
        problems.append(("nan", f"NaN positions differ at {count} element(s): {shown}"))
    inf_e = np.where(np.isinf(e64), np.sign(e64), 0.0)
    inf_a = np.where(np.isinf(a64), np.sign(a64), 0.0)
    if (inf_e != inf_a).any():
        count, shown = _elements_differing(inf_e != inf_a, ev, av, pairs)
        problems.append(("inf", f"inf positions/signs differ at {count} element(s): {shown}"))

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
            f"worst at index {fmt_idx(worst_el)}: original {ev[worst_el].item()!r}, "
            f"rewrite {av[worst_el].item()!r}",
        ))
    return problems, max_abs, max_rel

