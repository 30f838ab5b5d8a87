"""A loop over positions read as a loop over rows: `for i in range(len(a))` (or
`range(a.shape[0])`) whose body uses `i` only to read `a[i]` steps through the rows of `a` as
`for r in a` does, so the accumulating-loop form (accumulate.py) applies to it too.

The body is read from a copy where each `a[i]` is a name for the row. The lowering writes
what it leaves unchanged from the source text, where that name is still `a[i]`:
`named_rows` renames those reads in what it wrote.
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass

import gast

from .edits import fresh_name, names_in


@dataclass
class Positions:
    """`for counter in range(len(array))`, its rows named `row` in the body's copy."""

    array: str
    counter: str
    row: str

    def named_rows(self, text: str) -> str:
        """Lowered text with each `a[i]` written as the row's name."""
        tree = ast.parse(f"(\n{text}\n)", mode="eval")
        renamed = _Rename(self).visit(tree)
        return ast.unparse(renamed)


def rows_by_position(lw, node):
    """(array node, body reading the rows by name, Positions) for such a loop, else None. The
    body is a copy: the loop itself is left as it is, for the other loop forms."""
    array = _range_of_length(lw, node.iter)
    if array is None:
        return None
    counter = node.target.id
    body = node.body
    uses = [n for statement in body for n in gast.walk(statement) if isinstance(n, gast.Name) and n.id == counter]
    reads = [n for statement in body for n in gast.walk(statement) if _reads_row(n, array.id, counter)]
    if not reads or len(uses) != len(reads):
        return None  # `i` used other than as `a[i]`
    if any(isinstance(n, gast.Name) and n.id == array.id and not isinstance(n.ctx, gast.Load)
           for statement in body for n in gast.walk(statement)):
        return None  # `a[i]` reads the array as it is at that step
    positions = Positions(array.id, counter, fresh_name(f"{array.id}_row", names_in(lw.resolver.module.tree)))
    return array, [_named_rows(statement, positions) for statement in body], positions


def _range_of_length(lw, node):
    """The array `a` of `range(len(a))` or `range(a.shape[0])`, else None."""
    if not (isinstance(node, gast.Call) and lw.resolver.builtin(node.func) is range and len(node.args) == 1
            and not node.keywords):
        return None
    limit = node.args[0]
    if isinstance(limit, gast.Call) and lw.resolver.builtin(limit.func) is len and len(limit.args) == 1 \
            and not limit.keywords and isinstance(limit.args[0], gast.Name):
        return limit.args[0]
    if isinstance(limit, gast.Subscript) and isinstance(limit.slice, gast.Constant) and limit.slice.value == 0 \
            and isinstance(limit.value, gast.Attribute) and limit.value.attr == "shape" \
            and isinstance(limit.value.value, gast.Name):
        return limit.value.value
    return None


def _reads_row(node, array: str, counter: str) -> bool:
    return isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Load) \
        and isinstance(node.value, gast.Name) and node.value.id == array \
        and isinstance(node.slice, gast.Name) and node.slice.id == counter


def _named_rows(node, positions: Positions):
    """`node` with each `a[i]` replaced by a name for the row, at the place of `a[i]` in the
    source. Only the nodes around a replaced read are copied: the others stay the parsed ones,
    which the resolver knows (`np.log` is numpy.log by its node)."""
    if _reads_row(node, positions.array, positions.counter):
        return gast.copy_location(gast.Name(positions.row, gast.Load(), None, None), node)
    if not any(_reads_row(n, positions.array, positions.counter) for n in gast.walk(node)):
        return node
    node = copy.copy(node)
    for field, value in gast.iter_fields(node):
        if isinstance(value, list):
            setattr(node, field, [_named_rows(v, positions) if isinstance(v, gast.AST) else v for v in value])
        elif isinstance(value, gast.AST):
            setattr(node, field, _named_rows(value, positions))
    return node


class _Rename(ast.NodeTransformer):
    def __init__(self, positions: Positions):
        self.positions = positions

    def visit_Subscript(self, node):
        if isinstance(node.value, ast.Name) and node.value.id == self.positions.array \
                and isinstance(node.slice, ast.Name) and node.slice.id == self.positions.counter:
            return ast.copy_location(ast.Name(self.positions.row, ast.Load()), node)
        return self.generic_visit(node)
