"""Checking the rewrite's gradient against finite differences of the original.

Vector-Jacobian products from a ``tf.GradientTape`` on the rewrite are
compared, along a few random directions, with Richardson-extrapolated central
differences of the NumPy original in float64.  Directions where the original
has a kink, or where the differences are unstable, are skipped rather than
failed (see "Gradients" in `rewriter.verification`).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from .verify_calls import (VALUE_TOL, component_name, is_complex, is_real_float, is_tensor,
                           np_call_args, output_leaves, quiet_call, tf_call_args)
from .verify_result import fmt_idx, positions, short_error

GRAD_DIRECTIONS = 3
# gradient tolerance (relative), by the lowest precision the rewrite runs in
GRAD_TOL = {"float64": 1e-6, "float32": 2e-3, "float16": 5e-2, "bfloat16": 1e-1}
_PRECISION_ORDER = ["float64", "float32", "float16", "bfloat16"]


def check_grad(numpy_fn, tf_fn, kinds, values, np_leaves, tf_leaves, dev, rng):
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
        if is_real_float(dt):
            if np.asarray(v).size:
                diff_in.append(i)
        elif is_complex(dt):
            skipped.append(f"input {i} ({dt.name}): complex gradients are not checked")
        else:
            skipped.append(f"input {i} ({dt.name}): integer/bool input, not differentiable")
    diff_out: list[int] = []
    for k, (e, a) in enumerate(zip(np_leaves, tf_leaves)):
        if e.value is None:
            continue
        if is_real_float(e.dtype) and is_real_float(a.dtype):
            if e.value.size:
                diff_out.append(k)
        elif is_complex(e.dtype) or is_complex(a.dtype):
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
        [component_name(np.asarray(values[i]).dtype) for i in diff_in]
        + [component_name(tf_leaves[k].dtype) for k in diff_out],
        key=_PRECISION_ORDER.index,
    )
    gtol = GRAD_TOL[precision]

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
            targs = tf_call_args(kinds, values)
            watched = {i: targs[i] for i in diff_in}
            with tf.GradientTape(persistent=True) as tape:
                for x in watched.values():
                    tape.watch(x)
                out = tf_fn(*targs)
                leaves = [x for _, x in output_leaves(out)]
                losses = {}
                for k in diff_out:
                    y = leaves[k]
                    if not is_tensor(y):
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
        failures.append(f"gradient: the rewrite's gradient could not be computed: {short_error(exc)}")
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
                    pos = positions(~np.isfinite(g))
                    failures.append(
                        f"gradient of output {np_leaves[k].path} w.r.t. input {i} contains NaN/inf "
                        f"(e.g. at {fmt_idx(pos[0])}) while the outputs are finite"
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
            out = quiet_call(numpy_fn, *np_call_args(kinds, vals))
        except Exception:
            return None
        lv = [x for _, x in output_leaves(out)]
        if len(lv) != len(np_leaves):
            return None
        res = {}
        for k in diff_out:
            name = np.asarray(lv[k]).dtype.name
            if name in VALUE_TOL:
                out_eps[0] = max(out_eps[0], VALUE_TOL[name][0])
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

    out_eps = [VALUE_TOL["float64"][0]]  # resolution of the original's outputs in float64 mode
    f0 = F(x0)
    if out_eps[0] <= VALUE_TOL["float64"][0]:
        steps = (1e-6, 1e-3)
    elif out_eps[0] <= VALUE_TOL["float32"][0]:
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

