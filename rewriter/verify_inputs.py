"""Choosing the inputs `verify` tries besides the example.

Generates variants of the example arguments (resized, random signs and
zeros, large and small magnitudes, fresh values in the example's range; see
"Generated variants" in `rewriter.verification`), maps them through the
user's ``domain``, and keeps the first ones the original accepts.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .verify_calls import (DATA_KINDS, Leaf, component_name, dtype_kind, np_call_args, np_leaf,
                           output_leaves, quiet_call)


def _fresh(v: np.ndarray, shape, rng: np.random.Generator) -> np.ndarray:
    """New data of ``v``'s dtype and ``shape``, in the range ``v`` spans."""
    dt = v.dtype
    if dtype_kind(dt) == "b":
        p = float(v.mean()) if v.size else 0.5
        return rng.random(shape) < p
    if dtype_kind(dt) in "iu":
        if v.size:
            lo, hi = int(v.min()), int(v.max())
        else:
            lo, hi = 0, 1
        return rng.integers(lo, hi + 1, size=shape, endpoint=False).astype(dt)
    if dtype_kind(dt) == "c":
        re = _fresh(np.ascontiguousarray(v.real), shape, rng)
        im = _fresh(np.ascontiguousarray(v.imag), shape, rng)
        return (re + 1j * im).astype(dt)
    if dtype_kind(dt) == "f":
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
        if k in DATA_KINDS and dtype_kind(np.asarray(v).dtype) in "fc":
            arr = np.asarray(v)
            new = np.asarray(fn(arr)).astype(arr.dtype)
            out.append(arr.dtype.type(new) if k == "npscalar" else new)
        else:
            out.append(v)
    return out


def _resized(values, kinds, mapping, rng) -> list:
    out = []
    for k, v in zip(kinds, values):
        if k in DATA_KINDS:
            arr = np.asarray(v)
            shape = tuple(mapping.get(d, d) for d in arr.shape)
            new = _fresh(arr, shape, rng)
            out.append(arr.dtype.type(new) if k == "npscalar" else new)
        else:
            out.append(v)
    return out


def _candidates(kinds, values, rng):
    """Yield (label, values) variants, in order of preference."""
    data = [np.asarray(v) for k, v in zip(kinds, values) if k in DATA_KINDS]
    if not data:
        return
    has_float = any(dtype_kind(a.dtype) in "fc" and a.size for a in data)
    sizes = sorted({d for a in data for d in a.shape if d >= 2})

    def large_factor(a):
        return 16.0 if component_name(a.dtype) in ("float16", "bfloat16") else 1e3

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
        if k in DATA_KINDS:
            dt = np.asarray(ex).dtype
            arr = np.asarray(v).astype(dt)
            out.append(dt.type(arr) if k == "npscalar" else arr)
        else:
            out.append(v)
    return out


def _all_finite(leaves: list[Leaf]) -> bool:
    for lf in leaves:
        if lf.value is not None and dtype_kind(lf.value.dtype) in "fc" and not np.isfinite(lf.value).all():
            return False
    return True


def choose_trials(numpy_fn: Callable, kinds, ex_values, ex_leaves: list[Leaf], n_trials: int,
                  domain: Callable | None, rng: np.random.Generator):
    """Return ``(chosen, dropped)``: up to ``n_trials`` trials ``(label, values, original's
    leaves)``, the example first, and the labels of the variants the original rejected."""
    ex_finite = _all_finite(ex_leaves)
    chosen: list[tuple[str, list, list[Leaf]]] = [("example", ex_values, ex_leaves)]
    dropped: list[str] = []
    if n_trials > 1:
        for label, vals in _candidates(kinds, ex_values, rng):
            if len(chosen) >= n_trials:
                break
            if domain is not None:
                vals = _apply_domain(domain, kinds, vals, ex_values)
            try:
                out = quiet_call(numpy_fn, *np_call_args(kinds, vals))
                leaves = [np_leaf(p, x) for p, x in output_leaves(out)]
            except Exception as exc:
                dropped.append(f"{label} (original raised {type(exc).__name__})")
                continue
            if ex_finite and not _all_finite(leaves):
                dropped.append(f"{label} (original returned NaN/inf)")
                continue
            chosen.append((label, vals, leaves))
    return chosen, dropped
