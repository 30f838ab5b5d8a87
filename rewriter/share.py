"""Computing a repeated expression once: the render stage's common-subexpression pass.

A pure expression that the emitted statements of one block compute more than once, with
nothing it reads assigned and no call that could change a value in between, is bound to a
local named after what it holds (`naming.py`) before its first use.
"""
from __future__ import annotations

import ast
import copy

from .edits import fresh_name
from .naming import describe
from .purity import SCOPES, calls_pure_ops_only, pure, trivial, walk_unconditional


def share_repeated(statements: list, emitted: set, taken: set, ops) -> set:
    """Bind each non-trivial pure expression that the emitted statements compute more than
    once to one local, computed before its first use. Returns the block positions changed."""
    changed = set()
    for _ in range(50):
        found = largest_repeat(statements, emitted, ops)
        if found is None:
            return changed
        key, uses = found
        first = uses[0][0]
        value = uses[0][1]
        reuse = assigned_name(statements[first][1], value)
        if reuse is None:
            name = fresh_name(describe(value, ops.tf_alias) or "value", taken)
            binding = ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=copy.deepcopy(value), lineno=0)
            statements.insert(first, (statements[first][0], ast.fix_missing_locations(binding)))
            uses = [(k + 1 if k >= first else k, node) for k, node in uses]
        else:
            name, uses = reuse, uses[1:]
        for position, node in uses:
            replace_node(statements[position][1], node, ast.Name(id=name, ctx=ast.Load()))
            changed.add(statements[position][0])
        changed.add(statements[first][0])
    return changed


def largest_repeat(statements, emitted, ops):
    """The biggest expression that occurs twice in emitted statements with nothing it reads
    rebound between the occurrences: (its dump, [(statement position, node), ...]). Only
    statements whose every call is a pure TF op take part: any other call might change
    what a name holds (a variable's `assign`, a function setting a global)."""
    occurrences: dict = {}
    clean = [calls_pure_ops_only(s, ops) for _, s in statements]
    for position, (index, statement) in enumerate(statements):
        if index not in emitted or not clean[position]:
            continue
        always = {id(n) for n in walk_unconditional(statement)}
        for node in walk_unconditional(statement, branches=True):
            if isinstance(node, ast.expr) and not trivial(node, ops.constants) and pure(node, ops):
                occurrences.setdefault(ast.dump(node), []).append((position, node, id(node) in always))
    best = None
    for key, uses in occurrences.items():
        first = next((k for k, use in enumerate(uses) if use[2]), None)
        if first is None:
            continue  # computed only where it may not run: nowhere to compute it once
        uses = same_values(statements, [use[:2] for use in uses[first:]], clean)
        if len(uses) < 2:
            continue
        size = sum(1 for _ in ast.walk(uses[0][1]))
        if best is None or size > best[0]:
            best = (size, key, uses)
    return None if best is None else (best[1], best[2])


def same_values(statements, uses, clean):
    """The occurrences, from the first, that see the same values: none of the names the
    expression reads is assigned between them, and nothing between calls anything else
    than pure TF ops."""
    reads = {n.id for n in ast.walk(uses[0][1]) if isinstance(n, ast.Name)}
    kept = [uses[0]]
    for position, node in uses[1:]:
        between = [s for _, s in statements[kept[-1][0]:position]]
        if any(assigns(s) & reads for s in between) or not all(clean[kept[-1][0]:position + 1]):
            break
        if any(node is kept_node or contains(kept_node, node) for _, kept_node in kept):
            continue
        kept.append((position, node))
    return kept


def contains(outer, inner) -> bool:
    return any(n is inner for n in ast.walk(outer))


def assigns(statement) -> set:
    names = {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
    return names | {n.name for n in ast.walk(statement) if isinstance(n, (*SCOPES, ast.ClassDef))}


def assigned_name(statement, value):
    """`name = value`: later uses of value can read `name`."""
    if isinstance(statement, ast.Assign) and statement.value is value and len(statement.targets) == 1 \
            and isinstance(statement.targets[0], ast.Name) \
            and statement.targets[0].id not in {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}:
        return statement.targets[0].id
    return None


def replace_node(root, old, new) -> None:
    """Put `new` where `old` is inside `root`."""
    for parent in ast.walk(root):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for k, item in enumerate(value):
                    if item is old:
                        value[k] = new
                        return
    raise ValueError("node not found")
