"""Checking rewrites of ``np.random`` calls by their distribution, not their numbers.

A rewritten sampler cannot reproduce NumPy's stream, so `verify_distribution`
draws many samples from both sides and compares them with statistical tests:
two-sample Kolmogorov-Smirnov and support bounds for continuous samples,
support and chi-square homogeneity for discrete ones.
"""

from __future__ import annotations

import math
import statistics
from typing import Callable

import numpy as np
import tensorflow as tf

from .verify_calls import (Leaf, classify_args, dtype_kind, np_call_args, np_leaf, output_leaves,
                           quiet_call, resolve_device, tf_call_args, tf_leaf)
from .verify_result import FailureLog, VerifyResult, short_error


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
    if dtype_kind(a.dtype) in "fc":
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
    discrete = dtype_kind(a.dtype) in "biu" or (
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
    dev = resolve_device(device)
    kinds, values = classify_args(args)
    log = FailureLog()

    def draw(fn, tf_side: bool):
        pools: list[list[np.ndarray]] | None = None
        first: list[Leaf] | None = None
        got = 0
        calls = 0
        devname = None
        while got < n and calls < n:
            if tf_side:
                with tf.device(dev):
                    out = fn(*tf_call_args(kinds, values))
                leaves = [tf_leaf(p, x) for p, x in output_leaves(out)]
            else:
                out = quiet_call(fn, *np_call_args(kinds, values))
                leaves = [np_leaf(p, x) for p, x in output_leaves(out)]
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
        log.add(("raise",), None, f"rewrite raised {short_error(exc)}")
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
                int_ok = (e.pyint and dtype_kind(a.dtype) in "iu") or (a.pyint and dtype_kind(e.dtype) in "iu")
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

