"""`rewriter check`: diagnostics for NumPy-in-TensorFlow code, without changing any file.

    RWC001  tf.numpy_function / tf.py_function / tf.compat.v1.py_func site (fixable when
            `rewriter fix` converts it; otherwise the reason it can't)
    RWC002  tf.map_fn over a function that vectorizes: elementwise (apply it to the whole
            tensor), or one `rewriter fix` vectorizes (fixable)
    RWC003  np.apply_along_axis: a Python call per slice
    RWC004  NumPy array from module level captured by a Dataset.map function
    RWC005  np.random inside a tf.function: drawn once, at trace time
    RWC006  tf.function around plain Python scalar arithmetic
    RWC007  tf.function called with varying Python numbers: a new trace per value
    RWC008  `for` over tf.range that `rewriter fix` writes as whole-tensor ops (fixable)
    RWC009  @tf.custom_gradient around a NumPy forward: a hand-written gradient that autodiff
            of the converted forward makes redundant or shows wrong (`rewriter fix --verify`)
    RWC900  syntax error (the file is not analysed further)
    RWC901  internal error while analysing (please report it)

Every name is resolved through imports and def-use chains (`Resolver`), never by spelling:
`tf.map_fn` counts only when `tf` is TensorFlow. `# noqa` / `# noqa: RWC002` at the end of
the reported line silences a diagnostic, as in flake8 and ruff.

This module is the entry point (`check_source`), the select/ignore and noqa filters and the
output formats. The rules are in check_rules (RWC001-RWC004, RWC009), check_tf_function (RWC005-RWC007)
and check_function_bodies; the diagnostic and the rule codes in check_diagnostic.
"""
from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import asdict

from .check_diagnostic import ALWAYS_REPORTED, RULES, Diagnostic
from .check_rules import Checker
from .parse import ParseError, parse

FORMATS = ("text", "json", "github")


# -- entry points ------------------------------------------------------------------------------

def check_source(text: str, filename: str = "<string>", options=None, select=(), ignore=()) -> list:
    """Diagnostics for one Python source, sorted by position.

    `options` (a pipeline.RewriteOptions, optional) is what RWC001 asks `rewrite_source` with,
    so a project's pattern modules and select/ignore decide what counts as fixable.
    `select`/`ignore` are rule-code prefixes; only prefixes that can name a check rule (e.g.
    "RWC", "RWC00", "RWC004", "RW", "R") take part, so a fix-rule selection like "RW001" or "NP2"
    doesn't hide the checks. RWC900/RWC901 are always reported."""
    try:
        module = parse(text, filename)
    except ParseError as exc:
        return [Diagnostic(filename, max(exc.line, 1), max(exc.col, 1), "RWC900", f"syntax error: {exc.message}")]
    if "numpy" not in text and "tensorflow" not in text:
        return []   # every rule needs a name imported from one of them
    try:
        diagnostics = Checker(module, filename).run(text, options)
    except RecursionError:
        return [Diagnostic(filename, 1, 1, "RWC901", "too deeply nested to analyse")]
    diagnostics = _suppressed_by_noqa(text, diagnostics)
    return sorted(set(filtered(diagnostics, select, ignore)), key=Diagnostic.sort_key)


def filtered(diagnostics, select=(), ignore=()) -> list:
    """Keep the diagnostics that `select` selects (no check-rule prefix in it: all) and
    `ignore` doesn't ignore; see `check_source`."""
    select = [p.upper() for p in select if _names_check_rules(p)]
    ignore = [p.upper() for p in ignore if _names_check_rules(p)]
    out = []
    for d in diagnostics:
        if d.code in ALWAYS_REPORTED:
            out.append(d)
        elif any(d.code.startswith(p) for p in ignore):
            continue
        elif not select or any(d.code.startswith(p) for p in select):
            out.append(d)
    return out


def _names_check_rules(prefix: str) -> bool:
    prefix = prefix.upper()
    return any(code.startswith(prefix) for code in RULES)


def render(diagnostics, fmt: str = "text") -> str:
    """Diagnostics as text (`path:line:col: CODE message`, one per line, as ruff prints them;
    `path:cell N:line:col:` in notebooks), a JSON list of objects, or GitHub Actions workflow
    commands (`::warning file=...,line=...,col=...,title=CODE::message`; syntax errors are
    `::error`). Every format ends with a newline except empty text/github output, which is ""."""
    diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
    if fmt == "json":
        return json.dumps([asdict(d) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"
    if fmt == "text":
        lines = []
        for d in diagnostics:
            where = f"{d.path}:cell {d.cell}:" if d.cell is not None else f"{d.path}:"
            lines.append(f"{where}{d.line}:{d.col}: {d.code} {d.message}")
        return "".join(line + "\n" for line in lines)
    if fmt == "github":
        lines = []
        for d in diagnostics:
            level = "error" if d.code in ALWAYS_REPORTED else "warning"
            title = d.code if d.cell is None else f"{d.code} (cell {d.cell})"
            props = f"file={_gh_property(d.path)},line={d.line},col={d.col},title={_gh_property(title)}"
            lines.append(f"::{level} {props}::{_gh_data(d.message)}")
        return "".join(line + "\n" for line in lines)
    raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def _suppressed_by_noqa(text: str, diagnostics: list) -> list:
    if "noqa" not in text.lower():
        return diagnostics
    rules: dict = {}   # line -> None (all codes) or set of codes
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                match = _NOQA.search(token.string)
                if match:
                    codes = match.group("codes")
                    rules[token.start[0]] = None if codes is None else {c.strip().upper() for c in codes.split(",")}
    except (tokenize.TokenError, SyntaxError):
        return diagnostics
    out = []
    for d in diagnostics:
        if d.line in rules and d.code not in ALWAYS_REPORTED:
            codes = rules[d.line]
            if codes is None or d.code in codes:
                continue
        out.append(d)
    return out


__all__ = ["Diagnostic", "FORMATS", "RULES", "check_source", "filtered", "render"]
