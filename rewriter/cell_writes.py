"""Loops that write single elements of an output at computed positions: the YOLO target builder.

    for b in range(len(boxes)):
        for cls, cx, cy, w, h in boxes[b]:
            if w <= 0:
                continue
            col = min(int(cx * GRID), GRID - 1)
            target[b, row, col, 0] = 1.0
            target[b, row, col, 1:5] = [cx * GRID - col, cy * GRID - row, w, h]

becomes the columns of `boxes` unstacked into those names, each temporary computed for every
row at once, and one `scatter_last_writes` (tf_helpers) of every element the loop writes. Each
step's expressions are lowered as NumPy scalars and kept only when the TF they give is
elementwise, so it means the same on all rows. The loop's order decides duplicate cells: the
helper keeps the last write of each element, as the loop does, where a plain
`tf.tensor_scatter_nd_update` leaves the winner unspecified.
"""
from __future__ import annotations

import ast

import gast

from . import helper_source
from .facts import Fact, Kind
from .handlers import registers
from .loops import read_after
from .parse import Span
from .rows import own_rows_key, range_bound, steps_of
from .vectorize import _TF_ELEMENTWISE, lift

_TF_NAMES = _TF_ELEMENTWISE | {"tensorflow.constant"}


@registers("cell_writes")
def lower_scatter_loop(lw, node) -> bool:
    """The loop above as whole-array code; False when the loop is not of that shape."""
    shape = _shape(lw, node)
    if shape is None:
        return False
    counter, inner, source, names, temporaries = shape
    unknown = temporaries | {counter}  # per-step names not assigned yet: read, they would carry a value
    extra = {name: Fact(Kind.ARRAY, dtype=lw.env[source.id].dtype, rank=0, fresh=False) for name in names}
    lines, skips, writes, output = [], [], [], None
    for statement in inner.body:
        if isinstance(statement, gast.If):
            condition = _elementwise(lw, statement.test, extra, names, unknown)
            if condition is None or condition.fact.dtype is None or condition.fact.dtype.kind != "b":
                return False
            skips.append(condition.text)
        elif isinstance(statement.targets[0], gast.Name):
            value = _elementwise(lw, statement.value, extra, names, unknown)
            if value is None:
                return False
            name = statement.targets[0].id
            unknown.discard(name)
            extra[name] = value.fact
            names.append(name)
            lines.append(f"{name} = {value.text}")
        else:
            target = statement.targets[0]
            if output not in (None, target.value.id):
                return False
            output = target.value.id
            elements = _element_writes(lw, target, statement.value, counter, extra, names, unknown)
            if elements is None:
                return False
            writes += elements
    fact = lw.env.get(output)
    if fact is None or fact.kind is not Kind.ARRAY or not fact.fresh or output in lw.aliased \
            or fact.rank is None or fact.dtype is None or any(len(index) != fact.rank for index, _ in writes):
        return False
    if any(read_after(lw, node, name) for name in [counter, *names]):
        return False
    bound = lw.expr(node.iter.args[0]).text
    lines.insert(0, f"{', '.join(names[:len(_unpacked(inner))])} = tf.unstack({source.id}, "
                    f"num={len(_unpacked(inner))}, axis=-1)")
    lines.append(f"{counter} = tf.range({bound})[:, None]")
    step_writes = ", ".join(f"([{', '.join(index)}], {value})" for index, value in writes)
    skipped = skips[0] if len(skips) == 1 else " | ".join(f"({text})" for text in skips)
    skipped = skipped or f"tf.zeros_like({names[0]}, tf.bool)"
    lines.append(f"{output} = {helper_source.call('scatter_last_writes', output, f'[{step_writes}]', skipped)}")
    indent = lw.source.indent_of_line(node.lineno)
    start, end = lw.source.line_starts[node.lineno - 1], lw.source.line_starts[node.end_lineno]
    lw.out.edits[Span(start, end)] = "".join(f"{indent}{line}\n" for line in lines)
    lw.env[output] = fact.with_(fresh=True)
    return True


def _shape(lw, node):
    """(counter, inner loop, source array name node, unpacked names) of `for b in range(n): for
    a, c, ... in x[b]: <body>` over every row of a rank-3 `x`, its body made of `if ...:
    continue`, names assigned once and element writes; else None."""
    if node.orelse or not isinstance(node.target, gast.Name) or len(node.body) != 1:
        return None
    counter, inner = node.target.id, node.body[0]
    bound = range_bound(lw, node.iter)
    steps = steps_of(lw, bound) if bound is not None else None
    if not isinstance(inner, gast.For) or inner.orelse or steps is None or _unpacked(inner) is None:
        return None
    source = inner.iter
    if not (isinstance(source, gast.Subscript) and isinstance(source.value, gast.Name)
            and isinstance(source.slice, gast.Name) and source.slice.id == counter
            and steps[0] == own_rows_key(lw, source.value)):
        return None
    fact = lw.env.get(source.value.id)
    if fact is None or fact.kind is not Kind.ARRAY or fact.rank != 3 or fact.dtype is None \
            or fact.dtype.kind not in "fiu":
        return None
    names, writing = list(_unpacked(inner)), False
    for statement in inner.body:
        if isinstance(statement, gast.If):  # before any write: the writes share one mask
            if statement.orelse or len(statement.body) != 1 or not isinstance(statement.body[0], gast.Continue) \
                    or writing:
                return None
        elif not (isinstance(statement, gast.Assign) and len(statement.targets) == 1):
            return None
        elif isinstance(statement.targets[0], gast.Name):
            if statement.targets[0].id in names + [counter]:
                return None
            names.append(statement.targets[0].id)
        elif not (isinstance(statement.targets[0], gast.Subscript)
                  and isinstance(statement.targets[0].value, gast.Name)):
            return None
        else:
            writing = True
    return counter, inner, source.value, list(_unpacked(inner)), set(names[len(_unpacked(inner)):])


def _unpacked(inner):
    """The names of `for a, b, c in ...`, or None."""
    target = inner.target
    if isinstance(target, gast.Tuple) and target.elts and all(isinstance(e, gast.Name) for e in target.elts):
        names = [e.id for e in target.elts]
        return names if len(set(names)) == len(names) else None
    return None


def _element_writes(lw, target, value, counter, extra, names, unknown):
    """[(index texts, value text)] of the elements `out[b, i, j, k] = v` or `out[b, i, j, a:c] =
    [v, ...]` writes, in order; None when an index or value is not elementwise in the step."""
    parts = target.slice.elts if isinstance(target.slice, gast.Tuple) else [target.slice]
    if not parts or not (isinstance(parts[0], gast.Name) and parts[0].id == counter):
        return None
    indices, spread = [[counter]], None
    for part in parts[1:]:
        if isinstance(part, gast.Slice):
            span = _constant_slice(part)
            if span is None or spread is not None:
                return None
            spread = len(indices[0])
            indices = [index + [str(k)] for index in indices for k in span]
            continue
        lowered = _elementwise(lw, part, extra, names, unknown)
        if lowered is None or not _integer(lowered.fact):
            return None
        indices = [index + [lowered.text] for index in indices]
    items = value.elts if isinstance(value, (gast.List, gast.Tuple)) else [value] * len(indices)
    if spread is None and len(items) != 1 or len(items) != len(indices):
        return None
    out = []
    for index, item in zip(indices, items):
        lowered = _elementwise(lw, item, extra, names, unknown)
        if lowered is None or lowered.fact.dtype is None and lowered.fact.kind is not Kind.SCALAR:
            return None
        out.append((index, lowered.text))
    return out


def _constant_slice(part):
    """range of a slice `a:b` of non-negative int literals, else None."""
    bounds = [part.lower, part.upper]
    if part.step is not None or not all(isinstance(b, gast.Constant) and type(b.value) is int and b.value >= 0
                                        for b in bounds):
        return None
    return range(part.lower.value, part.upper.value) or None


def _integer(fact) -> bool:
    if fact.kind is Kind.SCALAR:
        return fact.pytype is int
    return fact.kind is Kind.ARRAY and fact.rank == 0 and fact.dtype is not None and fact.dtype.kind in "iu"


def _elementwise(lw, expression, extra, names, unknown):
    """`expression` lowered for one step (its names NumPy scalars), when the TF it gives is
    elementwise in those names and reads none of `unknown`: then it is the same expression for
    every step at once."""
    if any(isinstance(n, gast.Name) and n.id in unknown for n in gast.walk(expression)):
        return None
    value = lift(lw, expression, extra)
    if value is None or (value.fact.kind is Kind.ARRAY and value.fact.rank != 0):
        return None
    text = value.text if value.changed else lw.source.segment(expression)
    scalars = set(names)
    called = {id(n.func) for n in gast.walk(expression) if isinstance(n, gast.Call)}
    for node in gast.walk(expression):
        if isinstance(node, gast.Name) and node.id not in names and id(node) not in called:
            fact = lift(lw, node, extra)
            if fact is None or not (fact.fact.kind is Kind.SCALAR or fact.fact.rank == 0):
                return None
            scalars.add(node.id)
    return value if _elementwise_text(text, scalars) else None


def _elementwise_text(text, scalars) -> bool:
    """Whether TF text reads only `scalars` (per step or the same for all), through elementwise ops."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Constant, ast.Load, ast.operator,
               ast.unaryop, ast.cmpop, ast.Call, ast.Attribute, ast.Name, ast.keyword)
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or isinstance(node, (ast.MatMult, ast.Not)):
            return False
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            if not called.startswith("tf.") or f"tensorflow.{called[3:]}" not in _TF_NAMES:
                return False
        if isinstance(node, ast.Name) and node.id not in scalars | {"tf"}:
            return False
    return True
