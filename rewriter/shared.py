"""Which functions of a file other modules may use: those get a TF copy, never an in-place edit.

A module that imports `standardize` and treats its result as a NumPy array breaks if
`standardize` starts returning tensors. So a function counts as shared when its file belongs to
a package (an `__init__.py` beside it) and its name is public, or when another file of the run
names it in a `from ... import` or as an attribute (`prep.standardize`). The scan reads text
only and errs towards sharing: a copy is always safe, an in-place edit only when nobody else
can reach the function.
"""
from __future__ import annotations

import re
from pathlib import Path

_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]+)", re.M)
_ATTRIBUTE = re.compile(r"\.[ \t]*([A-Za-z_]\w*)")
_WORD = re.compile(r"[A-Za-z_]\w*")
_DEF = re.compile(r"^[ \t]*def[ \t]+([A-Za-z_]\w*)", re.M)
_STAR_IMPORT = re.compile(r"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]+\*", re.M)
_MAY_HAVE_SITES = re.compile(r"numpy_function|py_function|py_func")


def in_package(path: Path) -> bool:
    return (Path(path).parent / "__init__.py").exists()


def names_used_elsewhere(paths) -> dict:
    """{path: names of its functions that another of `paths` imports or reaches as an
    attribute}, for the files that may have sites (the only ones a rewrite edits)."""
    texts = {}
    for path in paths:
        try:
            texts[path] = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # the run reports unreadable files itself
    used = {path: _names_reached(text) for path, text in texts.items()}
    counts: dict = {}
    for names in used.values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    shared = {}
    for path, text in texts.items():
        if not _MAY_HAVE_SITES.search(text):
            continue
        own = used[path]
        # reached by another file: counted there (a name this file also reaches counts twice)
        star = counts.get("*", 0) - ("*" in own) > 0  # `from m import *` elsewhere: every public name
        names = {n for n in _DEF.findall(text)
                 if counts.get(n, 0) - (n in own) > 0 or (star and not n.startswith("_"))}
        if names:
            shared[str(path)] = frozenset(names)
    return shared


def _names_reached(text: str) -> set:
    names = set(_ATTRIBUTE.findall(text)) | ({"*"} if _STAR_IMPORT.search(text) else set())
    for group in _FROM_IMPORT.findall(text):
        words = _WORD.findall(group)
        names.update(w for i, w in enumerate(words) if w != "as" and (i == 0 or words[i - 1] != "as"))
    return names
