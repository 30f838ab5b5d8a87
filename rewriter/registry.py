"""The pattern registry: every pattern module shipped in `rewriter.patterns`, plus a project's own.

A pattern module is any module with a `PATTERNS` tuple of `Pattern` records. Rule codes are
stable: a module's `FAMILY_CODE` (letters, e.g. ``"NPE"`` for elementwise) plus the pattern's
three-digit position (``NPE004``), unless the
pattern names its own code.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace

from .pattern import Pattern


class PatternError(Exception):
    """A pattern module is malformed (duplicate name, missing examples, import failure)."""


class Registry:
    def __init__(self, patterns=()):
        self._by_name: dict = {}
        self._objects: dict | None = None
        for pattern in patterns:
            self.add(pattern)

    def add(self, pattern: Pattern):
        if pattern.numpy in self._by_name:
            raise PatternError(f"two patterns for {pattern.numpy}")
        if any(p.code == pattern.code for p in self._by_name.values()):
            raise PatternError(f"two patterns with the rule code {pattern.code}")
        if not pattern.examples:
            raise PatternError(f"pattern {pattern.numpy} has no examples to test it with")
        if not (pattern.tf or pattern.lower):
            raise PatternError(f"pattern {pattern.numpy} has neither a template nor a lowering")
        self._by_name[pattern.numpy] = pattern
        self._objects = None

    def get(self, numpy_name: str) -> Pattern | None:
        """The pattern for a qualified name, or for another name of the same NumPy object
        (`numpy.abs` is `numpy.absolute`)."""
        pattern = self._by_name.get(numpy_name)
        if pattern is None and numpy_name.startswith("numpy."):
            target = _live(numpy_name)
            if target is not None:
                pattern = self._by_object().get(id(target))
        return pattern

    def _by_object(self) -> dict:
        if self._objects is None:
            self._objects = {}
            for name, pattern in self._by_name.items():
                target = _live(name) if name.startswith("numpy.") else None
                if target is not None:
                    self._objects.setdefault(id(target), pattern)
        return self._objects

    def __iter__(self):
        return iter(sorted(self._by_name.values(), key=lambda p: p.numpy))

    def __len__(self):
        return len(self._by_name)


def _live(qualname: str):
    """The NumPy object a dotted name denotes, or None."""
    module_name, _, attr = qualname.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        return None


def _module_patterns(module) -> list:
    family = getattr(module, "FAMILY_CODE", "NPX")
    out = []
    for index, pattern in enumerate(getattr(module, "PATTERNS", ())):
        out.append(pattern if pattern.code else replace(pattern, code=f"{family}{index:03d}"))
    return out


def load(extra_modules=()) -> Registry:
    """The shipped patterns and those of `extra_modules` (dotted module names)."""
    from . import patterns as shipped

    registry = Registry()
    names = [f"{shipped.__name__}.{m.name}" for m in pkgutil.iter_modules(shipped.__path__)
             if not m.name.startswith("_")]
    for name in [*names, *extra_modules]:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise PatternError(f"cannot import pattern module {name}: {exc}") from None
        for pattern in _module_patterns(module):
            registry.add(pattern)
    return registry


_DEFAULT: Registry | None = None


def default() -> Registry:
    """The shipped registry, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load()
    return _DEFAULT
