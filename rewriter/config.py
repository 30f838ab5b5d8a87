"""Project settings: the `[tool.rewriter]` table of the nearest pyproject.toml.

    [tool.rewriter]
    include = ["src/**/*.py", "notebooks/*.ipynb"]   # globs, relative to the pyproject's folder
    exclude = ["src/legacy/**"]
    select = ["RW001", "NP2"]                        # rule-code prefixes to apply (empty: all)
    ignore = ["NP105"]                               # rule-code prefixes never to apply
    patterns = ["tools.rewriter_patterns"]           # extra pattern modules, importable from the root
    verify = false
    device = "/GPU:0"
    jobs = 4

Discovery walks up from the start folder and takes the nearest pyproject.toml that has a
`[tool.rewriter]` table (a pyproject.toml without one, e.g. a sub-package's, is passed over, as
ruff does); it stops at the folder holding `.git` (the repository root) or at the filesystem
root. With no such file every setting has its default.

Precedence: defaults < pyproject.toml < command line (`Config.merge`).

TOML is read with `tomllib` (Python >= 3.11) or the `tomli` backport on 3.10, so the project's
dependencies list `tomli>=1.1; python_version < "3.11"`.
"""
from __future__ import annotations

import dataclasses
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CODE_PREFIX = re.compile(r"[A-Za-z]+[0-9]*")
DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class ConfigError(Exception):
    """A setting is malformed; the message names the file, the key and what was expected."""


# key -> (description of the expected type, for messages)
_KEYS = {
    "include": "a list of glob strings",
    "exclude": "a list of glob strings",
    "select": "a list of rule-code prefixes (strings such as \"RW001\" or \"NP2\")",
    "ignore": "a list of rule-code prefixes (strings such as \"RW001\" or \"NP2\")",
    "patterns": "a list of dotted module names (strings such as \"tools.my_patterns\")",
    "verify": "a boolean (true or false)",
    "device": "a device string such as \"/GPU:0\" or \"/CPU:0\"",
    "jobs": "an integer >= 1",
}
KNOWN_KEYS = tuple(_KEYS)


@dataclass(frozen=True)
class Config:
    """Settings for one run. `root` is the folder of the pyproject.toml they came from (None
    without one); `path` is that file."""

    include: tuple = ()            # globs (.gitignore syntax, relative to root); empty: all
    exclude: tuple = ()            # globs (.gitignore syntax, relative to root)
    select: frozenset = frozenset()
    ignore: frozenset = frozenset()
    patterns: tuple = ()           # dotted module names of extra pattern modules
    verify: bool = False
    device: str | None = None      # None: the first GPU, else the CPU
    jobs: int | None = None        # None: the number of cores
    root: Path | None = None
    path: Path | None = None

    def merge(self, cli_values: dict) -> "Config":
        """A copy where every non-None value of `cli_values` (keys: KNOWN_KEYS) replaces the
        file's. `select`/`ignore` may be a comma-separated string ("RW001,NP2") or an iterable;
        an empty string or list is a value too (it clears the file's setting). Raises
        ConfigError for a malformed value and ValueError for a key that is not a setting."""
        unknown = sorted(set(cli_values) - set(_KEYS))
        if unknown:
            raise ValueError(f"not a setting: {', '.join(unknown)} (known: {', '.join(KNOWN_KEYS)})")
        changes = {}
        for key, value in cli_values.items():
            if value is None:
                continue
            if key in ("select", "ignore", "include", "exclude", "patterns") and isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()] if key in ("select", "ignore") \
                    else [value]
            if isinstance(value, (tuple, set, frozenset)):
                value = list(value)
            changes[key] = _validate(key, value, f"--{key}")
        return dataclasses.replace(self, **changes)

    def rewrite_options(self):
        """RewriteOptions with this config's select/ignore and pattern registry."""
        from .pipeline import RewriteOptions

        return RewriteOptions(select=self.select, ignore=self.ignore,
                              registry=self.registry() if self.patterns else None)

    def registry(self):
        """The shipped patterns plus this config's `patterns` modules (root on sys.path)."""
        return load_registry(self.root, self.patterns)

    def selects(self, path) -> bool:
        """Whether a file is covered by include/exclude, matched relative to `root` (relative
        to the current folder without a root). Files outside root are judged by exclude
        patterns matched on their path as given."""
        import pathspec

        rel = _relative_to(Path(path), self.root)
        if self.exclude and pathspec.GitIgnoreSpec.from_lines(self.exclude).match_file(rel):
            return False
        if self.include and not pathspec.GitIgnoreSpec.from_lines(self.include).match_file(rel):
            return False
        return True


def load_config(start) -> Config:
    """The settings that apply at `start` (a file or folder): see the module docstring.
    Raises ConfigError for unreadable or invalid TOML and for malformed settings."""
    found = find_pyproject(start)
    if found is None:
        return Config()
    path, table = found
    return _from_table(table, path)


def find_pyproject(start):
    """(path, `tool.rewriter` table) of the nearest pyproject.toml with that table, or None."""
    folder = Path(start).resolve()
    if not folder.is_dir():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            data = _read_toml(pyproject)
            tool = data.get("tool")
            if isinstance(tool, dict) and "rewriter" in tool:
                table = tool["rewriter"]
                if not isinstance(table, dict):
                    raise ConfigError(f"{_shown(pyproject)}: `tool.rewriter` must be a table, "
                                      f"got {_type_name(table)}")
                return pyproject, table
        if (candidate / ".git").exists():
            return None
    return None


def config_from_toml(text: str, path="pyproject.toml") -> Config:
    """Settings from the text of a pyproject.toml (its `[tool.rewriter]` table, if any);
    `root` is the folder of `path`."""
    path = Path(path)
    data = _parse_toml(text, path)
    table = data.get("tool", {}).get("rewriter", {}) if isinstance(data.get("tool"), dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{_shown(path)}: `tool.rewriter` must be a table, got {_type_name(table)}")
    return _from_table(table, path)


def _read_toml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{_shown(path)}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return _parse_toml(text, path)


def _parse_toml(text: str, path: Path) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_shown(path)}: invalid TOML: {exc}") from None


def _from_table(table: dict, path: Path) -> Config:
    shown = _shown(path)
    unknown = [k for k in table if k not in _KEYS]
    if unknown:
        raise ConfigError(f"{shown}: unknown key `tool.rewriter.{unknown[0]}` (known: {', '.join(KNOWN_KEYS)})")
    values = {key: _validate(key, value, f"{shown}: `tool.rewriter.{key}`") for key, value in table.items()}
    return Config(**values, root=path.parent.resolve(), path=path.resolve())


def _validate(key: str, value, where: str):
    """The setting's value in Config's form; ConfigError naming `where` when malformed."""
    expected = _KEYS[key]

    def fail(detail=""):
        got = detail or f"got {_type_name(value)} {value!r}"
        return ConfigError(f"{where} must be {expected}; {got}")

    if key in ("include", "exclude", "select", "ignore", "patterns"):
        if not isinstance(value, list):
            raise fail()
        for item in value:
            if not isinstance(item, str):
                raise fail(f"item {item!r} is {_type_name(item)}")
        if key in ("select", "ignore"):
            for item in value:
                if not CODE_PREFIX.fullmatch(item):
                    raise fail(f"{item!r} is not a rule code or prefix")
            return frozenset(item.upper() for item in value)
        if key == "patterns":
            for item in value:
                if not DOTTED_NAME.fullmatch(item):
                    raise fail(f"{item!r} is not a dotted module name")
            return tuple(value)
        import pathspec

        for item in value:
            if not item.strip():
                raise fail("an empty glob matches nothing")
            try:
                pathspec.GitIgnoreSpec.from_lines([item])
            except Exception as exc:  # pathspec raises its own error types per version
                raise fail(f"{item!r} is not a valid glob ({exc})") from None
        return tuple(value)
    if key == "verify":
        if not isinstance(value, bool):
            raise fail()
        return value
    if key == "device":
        if not isinstance(value, str) or not value.strip():
            raise fail()
        return value.strip()
    if key == "jobs":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise fail()
        return value
    raise AssertionError(key)  # pragma: no cover


# -- extra pattern modules ------------------------------------------------------------------

_REGISTRIES: dict = {}


def load_registry(root, modules):
    """The shipped pattern registry plus `modules` (dotted names importable from `root`),
    loaded once per process for each (root, modules). `root` is put first on sys.path (and
    left there: a pattern module may import its siblings later). Raises ConfigError when a
    module can't be imported or is malformed."""
    from . import registry as registry_module

    modules = tuple(modules)
    if not modules:
        return registry_module.default()
    key = (str(root) if root is not None else None, modules)
    if key not in _REGISTRIES:
        if root is not None and str(root) not in sys.path:
            sys.path.insert(0, str(root))
        try:
            _REGISTRIES[key] = registry_module.load(modules)
        except registry_module.PatternError as exc:
            raise ConfigError(f"`tool.rewriter.patterns`: {exc}") from None
        except Exception as exc:  # a pattern module that fails while importing
            raise ConfigError(f"`tool.rewriter.patterns`: importing {', '.join(modules)} failed: "
                              f"{type(exc).__name__}: {exc}") from None
    return _REGISTRIES[key]


# -- helpers ----------------------------------------------------------------------------------

def _relative_to(path: Path, root: Path | None) -> str:
    base = root if root is not None else Path.cwd()
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except (ValueError, RuntimeError, OSError):  # outside the root, or a symlink loop
        return path.as_posix()


def _shown(path: Path) -> str:
    """The path as a user would type it: relative to the current folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return rel if not rel.startswith("..") else str(path)


def _type_name(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array",
            dict: "a table"}.get(type(value), type(value).__name__)


__all__ = ["Config", "ConfigError", "KNOWN_KEYS", "config_from_toml", "find_pyproject", "load_config",
           "load_registry"]
