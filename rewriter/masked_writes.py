"""Loops that label an array under one mask per step become one selection of the last step:

    for k, color in enumerate(PALETTE):
        mask[np.all(img == color, axis=-1)] = k

Every step's mask is computed at once (`hits`, the steps on the first axis); each element
keeps the last step whose mask holds there, as the loop's later writes overwrite earlier ones,
and elements no mask holds keep what they held.
"""
from __future__ import annotations

import gast
import numpy as np

from .batch_steps import loop_steps
from .edits import fresh_name, names_in, substitute
from .facts import Kind, tf_name
from .handlers import registers
from .loops import read_after
from .parse import Span
from .rows import RowIndex
from .vectorize import lift


@registers("masked_write")
def lower_masked_write_loop(lw, node) -> bool:
    """`for k, v in enumerate(rows): out[m(v)] = k` (or `for k in range(len(rows))`) becomes
    the last `k` whose mask holds, per element, where any does. Returns False for any other
    loop, and where the index could overflow `out`'s dtype (NumPy raises there)."""
    if node.orelse or len(node.body) != 1:
        return False
    statement = node.body[0]
    target = statement.targets[0] if isinstance(statement, gast.Assign) and len(statement.targets) == 1 else None
    if not (isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name)
            and isinstance(statement.value, gast.Name)):
        return False
    name, counter = target.value.id, statement.value.id
    out = lw.env.get(name)
    if out is None or out.kind is not Kind.ARRAY or out.rank is None or out.dtype is None \
            or not out.fresh or name in lw.aliased or not _holds_any_index(out.dtype):
        return False
    if any(isinstance(n, gast.Name) and n.id == name for n in gast.walk(target.slice)):
        return False  # the mask reads what the loop writes
    steps = loop_steps(lw, node)
    if steps is None or not isinstance(getattr(steps.element.get(counter), "value", None), RowIndex) \
            or any(read_after(lw, node, n) for n in steps.element):
        return False
    mask = lift(lw, target.slice, steps.element)
    if mask is None or mask.fact.kind is not Kind.ARRAY or not mask.fact.batched \
            or mask.fact.dtype != np.dtype(bool) or mask.fact.rank != out.rank:
        return False
    taken = names_in(lw.resolver.module.tree)
    hits = fresh_name("hits", taken)
    last = fresh_name("last", taken | {hits})
    step = f"tf.range(tf.shape({hits})[0])"
    if out.rank:
        step = f"tf.reshape({step}, {[-1] + [1] * out.rank})"
    index = last if out.dtype == np.dtype("int32") else f"tf.cast({last}, {tf_name(out.dtype)})"
    lines = [*steps.prelude,
             f"{hits} = {substitute(mask.text, steps.over)}",
             f"{last} = tf.reduce_max(tf.where({hits}, {step}, -1), axis=0)",  # -1: no mask holds
             f"{name} = tf.where({last} >= 0, {index}, {name})"]
    indent = lw.source.indent_of_line(node.lineno)
    start, end = lw.source.line_starts[node.lineno - 1], lw.source.line_starts[node.end_lineno]
    lw.out.edits[Span(start, end)] = "".join(f"{indent}{line}\n" for line in lines)
    lw.env[name] = out.with_(fresh=True)
    return True


def _holds_any_index(dtype) -> bool:
    """Whether every step index (a tensor's row count is below 2**31) fits the dtype; a float
    rounds it as NumPy's assignment does."""
    return dtype.kind in "iuf" and dtype.itemsize >= 4
