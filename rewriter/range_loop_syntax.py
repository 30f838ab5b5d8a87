"""Questions about the syntax of a `for i in tf.range(...)` loop and its body, shared by the loop
rewrites (range_loops, range_loop_reads, range_loop_emit, range_loop_steps): which name a
statement binds, a TensorArray write, whether a value the loop leaves may be read after it,
the tensor a step count counts the rows of, and the shape of an index.
"""
from __future__ import annotations

import ast

import gast

from .sites import bind_arguments


def single_target(statement):
    """The Name an `x = ...` or `x op= ...` statement binds, or None."""
    if isinstance(statement, gast.Assign) and len(statement.targets) == 1 \
            and isinstance(statement.targets[0], gast.Name):
        return statement.targets[0]
    if isinstance(statement, gast.AugAssign) and isinstance(statement.target, gast.Name):
        return statement.target
    return None


def tensor_array_write(statement, name):
    """(index, value) of `name = name.write(index, value)`, or None."""
    call = statement.value if isinstance(statement, gast.Assign) else None
    if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == "write"
            and isinstance(call.func.value, gast.Name) and call.func.value.id == name):
        return None
    args = bind_arguments(call, ("index", "value", "name"))
    if args is None or not {"index", "value"} <= args.keys():
        return None
    return args["index"], args["value"]


def stored_names(statements) -> set:
    return {n.id for s in statements for n in gast.walk(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def read_outside(loop, name, scope) -> bool:
    """Whether a value the loop leaves in `name` may be read: after the loop, anywhere in a loop
    around it (the next round), in a nested function, or through `global`/`nonlocal`."""
    inside = {id(n) for n in gast.walk(loop)}
    around = [n for n in gast.walk(scope) if isinstance(n, (gast.For, gast.While)) and n is not loop
              and id(loop) in {id(m) for m in gast.walk(n)}]
    nested = [n for n in gast.walk(scope) if isinstance(n, (gast.FunctionDef, gast.Lambda)) and n is not scope]
    for node in gast.walk(scope):
        if isinstance(node, (gast.Global, gast.Nonlocal)) and name in node.names:
            return True
        if not (isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, gast.Load)) \
                or id(node) in inside:
            continue
        if node.lineno > loop.end_lineno or any(_contains(n, node) for n in around + nested):
            return True
    return False


def _contains(outer, node) -> bool:
    return (outer.lineno, outer.col_offset) <= (node.lineno, node.col_offset) \
        and (node.end_lineno, node.end_col_offset) <= (outer.end_lineno, outer.end_col_offset)


def block_of(statement, resolver) -> list:
    parent = resolver.parents.get(statement)
    for name in ("body", "orelse", "finalbody"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and any(s is statement for s in block):
            return block
    return [statement]


def rows_of(bound, resolver):
    """The tensor `x` when the step count is `tf.shape(x)[0]`, directly or through a name bound
    once to it; None otherwise."""
    if isinstance(bound, gast.Name):
        definitions = resolver.definitions(bound)
        parent = resolver.parents.get(definitions[0]) if len(definitions) == 1 else None
        if not (isinstance(parent, gast.Assign) and parent.targets == [definitions[0]]):
            return None
        bound = parent.value
    if isinstance(bound, gast.Subscript) and isinstance(bound.slice, gast.Constant) and bound.slice.value == 0 \
            and type(bound.slice.value) is int and isinstance(bound.value, gast.Call) \
            and resolver.qualname(bound.value.func) == "tensorflow.shape" and len(bound.value.args) == 1 \
            and isinstance(bound.value.args[0], gast.Name) and all(k.arg == "out_type" for k in bound.value.keywords):
        return bound.value.args[0]
    return None


def constant_index(node) -> bool:
    """An index that is the same at every step: a number, `None`, `...`, or a slice of numbers."""
    if isinstance(node, gast.Constant):
        return node.value is None or node.value is Ellipsis or type(node.value) is int
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return constant_index(node.operand) and node.operand.value not in (None, Ellipsis)
    if isinstance(node, gast.Slice):
        return all(p is None or (constant_index(p) and not (isinstance(p, gast.Constant) and p.value is Ellipsis))
                   for p in (node.lower, node.upper, node.step))
    return False


def read_rank(key):
    """Reads with the same key have rows of the same rank: (tensor, axes added minus axes
    removed by the rest of the index), or the read itself when `...` leaves that open."""
    tensor, rest = key
    parts = ast.parse(f"x[0, {rest}]").body[0].value.slice.elts[1:] if rest else []
    if any(isinstance(p, ast.Constant) and p.value is Ellipsis for p in parts):
        return key
    return tensor, sum(1 if isinstance(p, ast.Constant) and p.value is None else
                       0 if isinstance(p, ast.Slice) else -1 for p in parts)


def same_index(a: str, b: str) -> bool:
    return ast.dump(ast.parse(f"x[0, {a}]" if a else "x[0]")) == ast.dump(ast.parse(f"x[0, {b}]" if b else "x[0]"))


def expression(text: str):
    return ast.parse(f"({text})", mode="eval").body


def atom(text: str) -> str:
    node = ast.parse(text, mode="eval").body
    return text if isinstance(node, (ast.Name, ast.Call, ast.Subscript, ast.Attribute)) else f"({text})"
