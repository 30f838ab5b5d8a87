"""The per-file unit of work of `rewriter fix`: read, rewrite, write (or diff), record.

It runs in worker processes, so its inputs and outputs are plain picklable data, and it never
raises for a problem with the file: every outcome is a record.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from .files import SourceError, is_notebook, read_source, write_atomic
from .pipeline import RewriteOptions, rewrite_source
from .report import FileRecord, site_records
from .shared import in_package


@dataclass(frozen=True)
class FixJob:
    write: bool = True
    select: frozenset = frozenset()
    ignore: frozenset = frozenset()
    verify: bool = False
    drop_redundant_gradients: bool = False
    device: str | None = None
    pattern_root: str | None = None    # [tool.rewriter] patterns: where the modules live
    pattern_modules: tuple = ()
    shared: dict = field(default_factory=dict)  # path -> its functions other files of the run use


@dataclass
class Outcome:
    record: FileRecord
    diff: str = ""


def process_file(job: FixJob, path: Path) -> Outcome:
    shown = str(path)
    try:
        source = read_source(path)
    except SourceError as exc:
        return Outcome(FileRecord(shown, "error", str(exc)))
    from .config import load_registry

    registry_for_job = load_registry(job.pattern_root, job.pattern_modules)
    options = RewriteOptions(select=job.select, ignore=job.ignore, registry=registry_for_job,
                             shared_names=job.shared.get(shown, frozenset()), package_module=in_package(path),
                             drop_redundant_gradients=job.drop_redundant_gradients)
    verifier = None
    if job.verify:
        from .verify_sites import make_verifier

        verifier = make_verifier(shown, job.device)
    try:
        if is_notebook(path):
            from .notebooks import rewrite_notebook  # it brings `check`, which .py files never need

            result = rewrite_notebook(source.text, shown, options)
        else:
            result = rewrite_source(source.text, shown, options, verifier)
    except RecursionError:
        return Outcome(FileRecord(shown, "error", "too deeply nested to analyse"))
    except Exception as exc:  # noqa: BLE001 - a bug of ours must cost one file, not the run
        return Outcome(FileRecord(shown, "error", f"internal error ({type(exc).__name__}: {exc}); "
                                                  "file left unchanged, please report it"))
    records = site_records(result, registry_for_job)
    if result.error:
        where = f" (line {result.error_line})" if result.error_line else ""
        return Outcome(FileRecord(shown, "error", f"{result.error}{where}", records))
    if not result.changed:
        return Outcome(FileRecord(shown, "unchanged", sites=records))
    if job.write:
        try:
            write_atomic(source, result.new)
        except SourceError as exc:
            return Outcome(FileRecord(shown, "error", str(exc), records))
    return Outcome(FileRecord(shown, "changed", sites=records), unified_diff(shown, source.text, result.new))


def check_file(path: Path, select=(), ignore=(), options=None):
    """(diagnostics, error message or "") of `rewriter check` for one file; `options` are the
    RewriteOptions `fix` would use, so check calls fixable exactly what fix converts."""
    from .check import check_source
    from .notebooks import check_notebook

    try:
        source = read_source(path)
    except SourceError as exc:
        return [], str(exc)
    check = check_notebook if is_notebook(path) else check_source
    return check(source.text, str(path), options=options, select=select, ignore=ignore), ""


def unified_diff(path: str, old: str, new: str) -> str:
    """The diff `rewriter fix --diff` prints: a/ and b/ prefixes on relative paths."""
    before, after = (path, path) if os.path.isabs(path) else (f"a/{path}", f"b/{path}")
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=before, tofile=after))
