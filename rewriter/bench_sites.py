"""`rewriter bench FILE` on a program of the user's (not a corpus program): each converted
site's function, the original run through its own wrapper against the rewrite, timed side by
side on inputs made from what the site declares or from probes the original accepts.

Like --verify, this imports and runs the file's code.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .bench_timing import time_variants
from .pipeline import rewrite_source
from . import verify_sites as vs

SCALE = 256
"""Probe inputs are small; their first axis is repeated this many times for timing, when the
original accepts that."""

WRAPPERS = {"numpy_function": "numpy_function", "py_func": "numpy_function", "py_function": "py_function"}


def bench_file(path, repeats=None, out=None) -> int:
    """Print one row per site of `path`; exit code 0, or 2 when the file cannot be read,
    parsed or run, or no site could be timed."""
    out = out if out is not None else sys.stdout
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    result = rewrite_source(text, str(path))
    if result.error:
        print(f"error: {path}: {result.error}", file=sys.stderr)
        return 2
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    try:
        original_module = vs.load_module(text, str(path), "original")
        rewritten_module = vs.load_module(result.new, str(path), "rewritten")
    except vs.Unverified as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    rows, timed = [], 0
    for conversion in result.conversions:
        where = f"{path}:{conversion.site.line}"
        if conversion.status != "converted":
            rows.append((where, f"left ({conversion.code})", "", "", "", ""))
            continue
        try:
            row = _time_site(tf, conversion, original_module, rewritten_module, repeats)
        except vs.Unverified as exc:
            rows.append((where, f"not timed: {exc}", "", "", "", ""))
            continue
        rows.append((where, *row))
        timed += 1
    header = ("site", "function", "inputs", "original ms", "rewritten ms", "speedup")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)
    if not timed:
        print(f"error: {path}: no converted site could be timed", file=sys.stderr)
        return 2
    return 0


def _time_site(tf, conversion, original_module, rewritten_module, repeats) -> tuple:
    site = conversion.site
    if site.kind not in WRAPPERS or site.method_of is not None or site.bound_args or site.bound_kwargs \
            or "def " not in conversion.function_text:
        raise vs.Unverified("only module-level functions wrapped directly are timed")
    original = vs.numpy_callable(site.numpy_target) if site.numpy_target else original_module.get(site.target.name)
    name = conversion.function_text.split("def ", 1)[1].split("(", 1)[0].strip()
    rewritten = rewritten_module.get(name)
    if not callable(original) or not callable(rewritten):
        raise vs.Unverified("the function is not defined at module level")
    accepts = vs.numpy_side(site, original, [], strict=True)
    _, inputs = vs.first_accepted((conversion.variants or [[conversion.inputs]])[0], accepts)
    inputs = _scaled(inputs, accepts)
    tout = [tf.as_dtype(d) for d in site.tout_for(inputs)]
    wrapper = getattr(tf, WRAPPERS[site.kind])

    def through_numpy(*xs):
        outputs = wrapper(original, list(xs), tout if site.tout_is_list else tout[0])
        return tuple(outputs) if isinstance(outputs, list) else outputs

    variants = [("original", tf.function(through_numpy)), ("rewritten", tf.function(rewritten))]
    tensors = [tf.constant(x) for x in inputs]
    with vs.quiet():
        times = time_variants(variants, tensors, repeats=repeats)
    before, after = times["original"]["median_ms"], times["rewritten"]["median_ms"]
    shapes = ", ".join(f"{x.dtype}{list(x.shape)}" for x in inputs)
    return name, shapes, f"{before:.3g}", f"{after:.3g}", f"{before / after:.2f}x" if after else "-"


def _scaled(inputs, accepts) -> list:
    """The inputs with their first axis repeated SCALE times, if the original accepts them."""
    larger = [np.repeat(x, SCALE, axis=0) if np.ndim(x) else x for x in inputs]
    try:
        with vs.quiet():
            accepts(*larger)
    except Exception:  # noqa: BLE001 - a size the original rejects: time the probe itself
        return inputs
    return larger
