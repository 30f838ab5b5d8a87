"""A list of rows, stacked by NumPy: `np.array(rows)`, `np.stack(rows, axis=k)`, `np.concatenate(rows)`.

A list comprehension over the rows of an array and a loop that appends one value per row both
become one tensor with the rows on its first axis; the call that stacks the list then says where
NumPy puts them (and in which dtype). Both paths end here, so they stack alike.

With no rows NumPy's result differs (`np.array([])` is float64 of shape (0,), `np.stack([])`
raises); the stacked tensor keeps the element's dtype and shape (README, the vectorizer).
"""
from __future__ import annotations

import gast
import numpy as np

from . import facts as F
from .facts import Kind
from .lowered import Lowered, Refusal


class StackedRows:
    """What a list filled by a rewritten loop holds: its rows stacked on the first axis
    (`fact` counts that axis). Only a stacking call reads it (`append_loops.py` checks)."""

    def __init__(self, fact):
        self.fact = fact

_PARAMETERS = {
    "numpy.array": ("object", "dtype"),
    "numpy.asarray": ("a", "dtype"),
    "numpy.stack": ("arrays", "axis"),
    "numpy.concatenate": ("arrays", "axis"),
}
"""The stacking functions and their positional parameters (the list comes first)."""

_KEYWORDS = {"numpy.array": {"dtype"}, "numpy.asarray": {"dtype"},
             "numpy.stack": {"axis", "dtype"}, "numpy.concatenate": {"axis", "dtype"}}


def stacker(lw, call) -> str | None:
    """The stacking function a call is (`numpy.array`, ...), when it has a first argument."""
    qualname = lw.resolver.qualname(call.func)
    return qualname if qualname in _PARAMETERS and call.args else None


def stacked_rows(lw, call):
    """The rows a stacking call stacks, when its list is made a tensor of rows at once: a
    comprehension over rows, or a list a rewritten loop filled; else None."""
    if stacker(lw, call) is None:
        return None
    first = call.args[0]
    if isinstance(first, gast.ListComp):
        return first
    fact = lw.env.get(first.id) if isinstance(first, gast.Name) else None
    return first if fact is not None and isinstance(fact.value, StackedRows) else None


def stack_rows(lw, call, rows: Lowered) -> Lowered:
    """The stacking call's result, from the rows stacked on the first axis (`rows.fact.rank`
    counts that axis)."""
    qualname = stacker(lw, call)
    names = _PARAMETERS[qualname]
    if len(call.args) > len(names):
        raise Refusal(call, f"{qualname} of a list of rows: only {', '.join(names)} are rewritten")
    given = dict(zip(names[1:], call.args[1:]))
    for keyword in call.keywords:
        if keyword.arg not in _KEYWORDS[qualname]:
            raise Refusal(call, f"{qualname} of a list of rows with `{keyword.arg}=` is not rewritten")
        given[keyword.arg] = keyword.value
    lw.out.patterns.add(qualname)
    rank = rows.fact.rank - 1  # of one row
    text, fact = rows.text, rows.fact.with_(fresh=True, batched=False)
    if qualname == "numpy.stack":
        axis = _axis(lw, call, given, rank + 1)
        if axis:
            order = [*range(1, axis + 1), 0, *range(axis + 1, rank + 1)]
            text = f"tf.transpose({text})" if rank == 1 else f"tf.transpose({text}, {order})"
    elif qualname == "numpy.concatenate":
        if rank == 0:
            raise Refusal(call, "np.concatenate of 0-d rows raises in NumPy")
        if _axis(lw, call, given, rank) != 0:
            raise Refusal(call, "np.concatenate of a list of rows is rewritten on axis 0 only")
        if rank == 1:
            text = f"tf.reshape({text}, [-1])"
        elif text.isidentifier():
            text = f"tf.reshape({text}, tf.concat([[-1], tf.shape({text})[2:]], 0))"
        else:
            raise Refusal(call, "np.concatenate of a comprehension of rows above rank 1 is not rewritten yet")
        fact = fact.with_(rank=rank)
    if "dtype" in given:
        dtype = lw.expr(given["dtype"]).fact
        if dtype.kind is not Kind.DTYPE or F.as_dtype(dtype.value) is None:
            raise Refusal(call, f"{qualname}: the dtype must be a NumPy dtype")
        dtype = F.as_dtype(dtype.value)
        if qualname in ("numpy.stack", "numpy.concatenate") \
                and not np.can_cast(fact.dtype, dtype, casting="same_kind"):
            raise Refusal(call, f"{qualname} raises casting {fact.dtype} rows to {dtype} (casting='same_kind')")
        if dtype != fact.dtype:
            text, fact = f"tf.cast({text}, {F.tf_name(dtype)})", fact.with_(dtype=dtype)
    return Lowered(text, fact, True)


def _axis(lw, call, given, rank) -> int:
    """The constant axis among `rank` axes, made non-negative (0 when not given)."""
    if "axis" not in given:
        return 0
    node = given["axis"]
    value = node.value if isinstance(node, gast.Constant) else lw.expr(node).fact.value
    if type(value) is not int or not -rank <= value < rank:
        raise Refusal(call, "the stacking axis must be an integer within the result's axes")
    return value % rank
