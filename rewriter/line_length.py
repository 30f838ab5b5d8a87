"""The line length a file's project formats to: what the emitted code is wrapped at.

The nearest pyproject.toml above the file decides, through `[tool.black]` or `[tool.ruff]`
`line-length` (black first: a project that runs black formats with it); otherwise 88, the
default of both.
"""
from __future__ import annotations

import functools
from pathlib import Path

DEFAULT = 88


def line_length_for(filename: str) -> int:
    """The line length for a file path; the default for text that is not a file."""
    path = Path(filename)
    if filename.startswith("<") or not path.parent.is_dir():
        return DEFAULT
    return _for_folder(path.parent.resolve())


@functools.lru_cache(maxsize=256)
def _for_folder(folder: Path) -> int:
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            return _from_pyproject(pyproject)
    return DEFAULT


def _from_pyproject(path: Path) -> int:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        tool = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return DEFAULT  # the config stage reports a broken pyproject.toml
    for formatter in ("black", "ruff"):
        value = tool.get(formatter, {}).get("line-length") if isinstance(tool.get(formatter), dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and 40 <= value <= 400:
            return value
    return DEFAULT
