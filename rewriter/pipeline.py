"""The rewrite pipeline for one source text, as one readable list of stages:

    parse -> resolve -> find sites -> convert (lower) -> emit -> render -> verify (optional) -> check

Convert lowers each site's function (`convert.py`), emit writes the edits (`emit_site.py`),
render lays out what the rewrite wrote (`render.py`); --verify runs the rendered code, so
what is verified is what is written.

`rewrite_source` never raises for problems in the user's code: a syntax error becomes the
file's `error`, a site that can't be converted is `left` with its reason.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from . import registry as registry_module
from .convert import Conversion, convert_site
from .custom_gradients import drop_edits
from .emit import alias_to_import, import_edit, tensorflow_alias, use_alias
from .emit_site import emit_site
from .line_length import line_length_for
from .edits import Edit, apply_edits
from .parse import ParseError, parse
from .render import render
from .resolve import Resolver
from .sites import find_sites

_MAY_HAVE_SITES = re.compile(r"numpy_function|py_function|py_func|map_fn|\brange\b")

SITE_CODES = {"numpy_function": "RW001", "py_function": "RW002", "py_func": "RW003", "map_fn": "RW004", "range_loop": "RW005"}


@dataclass(frozen=True)
class RewriteOptions:
    select: frozenset = frozenset()   # rule-code prefixes to apply (empty: all)
    ignore: frozenset = frozenset()   # rule-code prefixes never to apply
    registry: object = None           # a pattern Registry (default: the shipped one)
    shared_names: frozenset = frozenset()  # functions other modules use: copied, never edited in place
    package_module: bool = False           # the file is in a package: its public functions count as shared
    line_length: int = 0                   # wrap emitted lines at this length (0: the file's project's, see line_length.py)
    drop_redundant_gradients: bool = False  # remove a @tf.custom_gradient whose gradient --verify found redundant

    def shared(self, name: str) -> bool:
        """Whether other modules may use the function `name` (see `shared.py`)."""
        return name in self.shared_names or (self.package_module and not name.startswith("_"))

    def allows(self, codes) -> bool:
        codes = list(codes)
        if any(c.startswith(p) for c in codes for p in self.ignore):
            return False
        return not self.select or all(any(c.startswith(p) for p in self.select) for c in codes[:1])


@dataclass
class FileResult:
    filename: str
    original: str
    new: str
    conversions: list = field(default_factory=list)
    error: str = ""
    error_line: int = 0
    error_col: int = 0

    @property
    def changed(self) -> bool:
        return self.new != self.original


def rewrite_source(text: str, filename: str = "<string>", options: RewriteOptions | None = None,
                   verifier=None) -> FileResult:
    """Rewrite every site in `text`. `verifier(conversion, text, text_with_that_site_rewritten)`
    (from `verify_sites.make_verifier`, for --verify) may veto sites: they are then left."""
    options = options or RewriteOptions()
    if not _MAY_HAVE_SITES.search(text):  # most files of a repository: no analysis needed
        try:
            ast.parse(text, filename)
        except (SyntaxError, ValueError) as exc:
            message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
            return FileResult(filename, text, text, error=f"syntax error: {message}",
                              error_line=getattr(exc, "lineno", 0) or 0, error_col=getattr(exc, "offset", 0) or 0)
        return FileResult(filename, text, text)
    registry = options.registry or registry_module.default()
    try:
        module = parse(text, filename)
    except ParseError as exc:
        return FileResult(filename, text, text, error=f"syntax error: {exc.message}",
                          error_line=exc.line, error_col=exc.col)
    resolver = Resolver(module)
    conversions = [_filtered(_convert_safely(site, module, resolver, registry, options.shared), options, registry)
                   for site in find_sites(module, resolver)]
    imported = tensorflow_alias(module)
    alias = imported or alias_to_import(module)
    line_length = options.line_length or line_length_for(filename)

    def rewritten(edits):
        edits = [Edit(e.start, e.end, use_alias(e.text, alias)) for e in edits]
        edits += [import_edit(module, alias)] if imported is None and edits else []
        return render(text, apply_edits(text, edits), line_length, alias)

    if verifier is not None:
        for conversion in conversions:
            if conversion.status == "converted":
                _verify(conversion, verifier, text, rewritten)
        if options.drop_redundant_gradients:
            _drop_redundant_gradients(conversions, module.source)
    edits = _collect_edits(conversions)
    if not edits:
        return FileResult(filename, text, text, conversions)
    new = rewritten(edits)
    try:
        parse(new, filename)
    except ParseError as exc:  # a bug of ours: never write it
        for conversion in conversions:
            if conversion.status == "converted":
                conversion.status, conversion.code = "error", "RW900"
                conversion.reason = f"internal error: the rewrite does not parse ({exc.message}); file left as is"
        return FileResult(filename, text, text, conversions)
    return FileResult(filename, text, new, conversions)


def _convert_safely(site, module, resolver, registry, shared) -> Conversion:
    """Convert and emit one site. A bug of ours in one site costs that site, not the file: it
    is left, marked error."""
    try:
        return emit_site(convert_site(site, module, resolver, registry, shared), module, resolver)
    except RecursionError:
        raise
    except Exception as exc:  # noqa: BLE001
        return Conversion(site, "error", f"internal error ({type(exc).__name__}: {exc}); site left unchanged",
                          "RW900", site.line, site.col)


def _verify(conversion: Conversion, verifier, text: str, rewrite):
    """Keep the conversion only if it verifies; a dispatch whose later bodies fail (or cannot be
    probed) falls back to its first bodies, the rest running the original."""
    check = verifier(conversion, text, rewrite(conversion.edits))
    while not check.ok and conversion.fewer_bodies:
        dropped = len(conversion.variants) - len(conversion.fewer_bodies[0].variants)
        conversion.edits, conversion.function_text, conversion.variants = \
            conversion.fewer_bodies.pop(0).astuple()
        conversion.notes.append(f"{dropped} more bod{'y' if dropped == 1 else 'ies'} left out: "
                                f"{check.reason}; those inputs run the original")
        check = verifier(conversion, text, rewrite(conversion.edits))
    conversion.verification = check.figures
    if not check.ok:
        conversion.status, conversion.edits = "left", []
        conversion.code = "RW401" if check.reason.startswith("unverified") else "RW400"
        conversion.reason = check.reason


def _drop_redundant_gradients(conversions, source):
    """The plain native forward for each @tf.custom_gradient whose hand-written gradient agreed
    with autodiff of the verified rewrite; a gradient not checked, or not agreeing, stays."""
    for conversion in conversions:
        record = (conversion.verification or {}).get("custom_gradient") or {}
        if conversion.status == "converted" and record.get("verdict") == "agree" and not record["kept_because"]:
            conversion.edits = conversion.edits + drop_edits(conversion.site.custom_gradient, source)
            record["dropped"] = True


def _filtered(conversion: Conversion, options: RewriteOptions, registry) -> Conversion:
    if conversion.status != "converted":
        return conversion
    codes = [SITE_CODES[conversion.site.kind]] + [registry.get(p).code for p in conversion.patterns
                                                   if registry.get(p) is not None]
    if options.allows(codes):
        return conversion
    conversion.status, conversion.code = "left", "RW120"
    conversion.reason = "not selected (--select/--ignore)"
    conversion.edits = []
    return conversion


def _collect_edits(conversions) -> list:
    """All converted sites' edits. A site whose edits collide with an earlier one's is left;
    when both wrap the same function (say, declared for different dtypes), both are left, so
    that a second run does not convert the other one into a second copy."""
    while True:
        taken, owner = [], {}
        for conversion in conversions:
            if conversion.status != "converted":
                continue
            new = [e for e in conversion.edits if e not in owner]
            hit = next((owner[t] for e in new for t in taken if _overlaps(e, t)), None)
            if hit is None:
                taken.extend(new)
                owner.update({e: conversion for e in new})
                continue
            _leave_colliding(conversion)
            if hit.site.target is not None and hit.site.target is conversion.site.target:
                _leave_colliding(hit)
                break  # collect again without the earlier site's edits
        else:
            return taken


def _leave_colliding(conversion):
    conversion.status, conversion.code, conversion.edits = "left", "RW121", []
    conversion.reason = "another site rewrites the same code differently (declare the same inputs for both)"


def _overlaps(a: Edit, b: Edit) -> bool:
    """Whether two different edits touch the same text (two insertions at one point
    collide too: both would define the same `_tf` function differently)."""
    if a.start == a.end and b.start == b.end:
        return a.start == b.start
    if a.start == a.end:
        return b.start < a.start < b.end
    if b.start == b.end:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end
