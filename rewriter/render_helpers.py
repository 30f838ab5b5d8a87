"""The marked block of NumPy-exact helpers in a rewritten file (see `helper_source.py`).

Lowering writes `__rw_np_hanning(m)`; here the call gets the name the file's helper has, and
the helper is defined in the file's one helper block, made after the imports when the file
has none. A helper the block already defines is reused, so a later run adds nothing.
"""
from __future__ import annotations

import ast
import re

from . import helper_source
from .edits import fresh_name
from .source_text import LINE_WITH_END, identifiers, text_key


class Helpers:
    """The helper functions a rewritten file defines: their names, and their statements (the
    render stage leaves them as written)."""

    def __init__(self, names=(), texts=()):
        self.names = frozenset(names)
        self.statements = {text_key(text, s) for text in texts for s in ast.walk(ast.parse(text))
                           if isinstance(s, ast.stmt)}


def define_helpers(new: str, tf_alias: str):
    """`new` with its helper calls named and the helpers defined in the file's helper block
    (made after the imports when the file has none; a helper it has already is reused)."""
    needed = helper_source.used(new)
    existing = existing_helpers(new)
    if not needed:
        return new, Helpers(existing.values(), [])
    tree = ast.parse(new)
    taken = identifiers(tree)
    names, added = {}, []
    for helper in needed:
        names[helper] = existing[helper] if helper in existing else fresh_name(helper, taken)
    added = [helper_source.source(helper, tf_alias, names) for helper in needed if helper not in existing]
    new = helper_source.rename_calls(new, names)
    if added:
        lines = LINE_WITH_END.findall(new)
        end = next((k for k, line in enumerate(lines) if line.rstrip() == helper_source.BLOCK_END), None)
        if end is not None:
            lines[end:end] = ["\n".join(added) + "\n\n"]
        else:
            after = after_imports(tree)
            blank = next((k for k, line in enumerate(lines[after:]) if line.strip()), len(lines) - after)
            lines[after:after] = ["\n\n" + helper_source.file_block(added) + "\n" * max(0, 2 - blank)]
        new = "".join(lines)
    return new, Helpers({*names.values(), *existing.values()}, added)


def existing_helpers(text: str) -> dict:
    """helper -> its name in the file, for the helpers the file's helper block defines."""
    if helper_source.BLOCK_START not in text:
        return {}
    block = text.split(helper_source.BLOCK_START, 1)[1].split(helper_source.BLOCK_END, 1)[0]
    found = {}
    for name in re.findall(r"(?m)^def ([a-z_]+?)(\d*)\(", block):
        found.setdefault(name[0], name[0] + name[1])
    return found


def after_imports(tree) -> int:
    """The line index after the module's docstring and leading imports."""
    end = 0
    for k, statement in enumerate(tree.body):
        docstring = k == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        if not (docstring or isinstance(statement, (ast.Import, ast.ImportFrom))):
            break
        end = statement.end_lineno
    return end
