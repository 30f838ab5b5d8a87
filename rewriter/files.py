"""Files on disk: which ones a run covers, reading them faithfully, writing them atomically.

Reading keeps what a rewrite must give back unchanged: the encoding (PEP 263 cookie or BOM),
the line endings (a CRLF file stays CRLF) and the file mode. Writing goes to a temporary file
in the same folder and is renamed over the original, so a killed run leaves every file either
old or new, never half-written.
"""
from __future__ import annotations

import io
import os
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pathspec

SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "build", "dist",
                          "site-packages", "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache"})
SOURCE_SUFFIXES = (".py", ".ipynb")


class SourceError(Exception):
    """A file that can't be read or written; the message names the problem."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    text: str         # with "\n" line endings when the file used CRLF throughout
    encoding: str
    newline: str      # "\n" or "\r\n": what to write back
    mode: int


def discover(paths, exclude=(), include=()) -> tuple:
    """(files, problems): the Python files under `paths`, and one message per path that does
    not exist. Skips tool folders, what .gitignore ignores, and symlinks leading out of the tree."""
    files, problems, seen = [], [], set()
    exclude_spec = pathspec.GitIgnoreSpec.from_lines(exclude)
    include_spec = pathspec.GitIgnoreSpec.from_lines(include) if include else None
    for given in paths:
        root = Path(given)
        if not root.exists() and not root.is_symlink():
            problems.append(f"{given}: no such file or directory")
            continue
        if root.is_file():
            candidates = [root]
        else:
            candidates = _walk(root)
        for path in candidates:
            relative = _relative(path, root)
            if exclude_spec.match_file(relative) or (include_spec and not include_spec.match_file(relative)):
                continue
            key = os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                files.append(path)
    return files, problems


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() if root.is_dir() else path.name
    except ValueError:
        return path.as_posix()


def _walk(root: Path):
    real_root = os.path.realpath(root)
    ignore_specs = []  # (folder, PathSpec) from .gitignore files met on the way down
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(folder)
        gitignore = here / ".gitignore"
        if gitignore.is_file():
            try:
                lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
                ignore_specs.append((here, pathspec.GitIgnoreSpec.from_lines(lines)))
            except OSError:
                pass

        def ignored(path: Path, is_dir: bool) -> bool:
            for base, spec in ignore_specs:
                try:
                    rel = path.relative_to(base).as_posix()
                except ValueError:
                    continue
                if spec.match_file(rel + ("/" if is_dir else "")):
                    return True
            return False

        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
                             and not ignored(here / d, True))
        for name in sorted(filenames):
            path = here / name
            if not name.endswith(SOURCE_SUFFIXES) or ignored(path, False):
                continue
            if path.is_symlink() and not os.path.realpath(path).startswith(real_root + os.sep):
                continue  # never follow a link out of the tree
            yield path


def read_source(path: Path) -> SourceFile:
    try:
        data = Path(path).read_bytes()
        mode = os.stat(path).st_mode
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        reason = f"not valid {encoding}" if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise SourceError(f"cannot decode the file: {reason}") from None
    if encoding == "utf-8-sig" and text.startswith("\ufeff"):
        text = text[1:]
    newline = "\n"
    if "\r\n" in text and text.count("\r\n") == text.count("\n"):
        text, newline = text.replace("\r\n", "\n"), "\r\n"
    return SourceFile(Path(path), text, encoding, newline, mode)


def write_atomic(source: SourceFile, text: str) -> None:
    """Replace the file's content with `text`, in its encoding, line endings and mode."""
    if source.newline != "\n":
        text = text.replace("\n", source.newline)
    data = text.encode(source.encoding)
    folder = source.path.parent
    fd, temp = tempfile.mkstemp(prefix=f".{source.path.name}.", suffix=".rewriter", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, source.mode & 0o7777)
        os.replace(temp, source.path)
    except OSError as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise SourceError(f"cannot write: {exc.strerror or exc}") from None


def is_notebook(path) -> bool:
    """A Jupyter notebook, rewritten cell by cell (`notebooks.py`, imported only for them)."""
    return str(path).endswith(".ipynb")
