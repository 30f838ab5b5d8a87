"""In-place element updates (`a[mask] = 0`, `a[:, 0] = v`, `a[..., :3] /= 255`) as functional TF.

TF tensors are immutable, so an update becomes `a = tf.where(region, new, a)`. That is only
the same program when no other name sees the array: it must have been created in the
function, or handed to it as its own by numpy_function (see `convert._private_inputs`), and
never aliased (`b = a`, views); otherwise the site is left. The region is a
boolean mask: the index array itself, or per-axis conditions on `tf.range` for integers and
slices with literal bounds (negative bounds count from the end, out-of-range bounds clamp
exactly as NumPy's slices do).
"""
from __future__ import annotations

import gast
import numpy as np

from . import facts as F
from .apply import literal_tensor
from .facts import Kind
from .handlers import registers
from .lowered import Inconsistent, Lowered, Refusal


@registers("setitem")
def lower_setitem(lw, statement, target, value: Lowered, op=None) -> str:
    """The statement `name = tf.where(...)` replacing `name[index] (op)= value`."""
    if not isinstance(target.value, gast.Name):
        raise Refusal(statement, "only updates of a named array are rewritten")
    name = target.value.id
    array = lw.env.get(name)
    if array is None or array.kind is not Kind.ARRAY or array.dtype is None:
        raise Refusal(statement, f"`{name}` is not an array of known dtype here")
    if name in lw.aliased or not array.fresh:
        raise Refusal(statement, f"`{name}` may be shared with other names: its in-place update would not "
                                 "reach them in TF", "RW207")
    if array.batched or value.fact.batched:
        raise Refusal(statement, "in-place updates inside a vectorized body have no batching rule")
    if lw.loop_depth:
        raise Refusal(statement, "an in-place update inside a loop would copy the whole array at every step "
                                 "in TF (quadratic); the loop becomes one scatter only when each step writes at "
                                 "integer positions no step reads back, with `+=`/`-=` keeping the array's dtype "
                                 "or `=` of one value for every step (NumPy keeps a position's last write, which "
                                 "a scatter does not promise): left as NumPy", "RW209")
    if op is None and value.fact.kind is Kind.ARRAY and value.fact.rank and array.rank == value.fact.rank + 1:
        row = _row_update(lw, statement, target, name, array, value)
        if row is not None:
            return row
    if value.fact.kind is Kind.ARRAY and value.fact.rank not in (0, None) or value.fact.kind not in (Kind.ARRAY, Kind.SCALAR):
        raise Refusal(statement, "only a scalar can be assigned into a region yet")
    if value.fact.kind is Kind.ARRAY and value.fact.rank is None:
        raise Refusal(statement, "the assigned value's rank is unknown")
    mask = _region(lw, target, array)
    current = Lowered(name, array)
    if op is not None:
        value = lw.binop(statement, op, current, value)
        result = value.fact
        if result.dtype != array.dtype and not np.can_cast(result.dtype, array.dtype, casting="same_kind"):
            raise Inconsistent(f"NumPy refuses to cast {result.dtype} into {array.dtype} in place")
    lw.out.patterns.add("ndarray.__setitem__")
    return f"{name} = tf.where({mask}, {cast_into(value, array.dtype)}, {name})"


def cast_into(value: Lowered, dtype, text=None) -> str:
    """The value (its `text`, if given) as NumPy writes it into an array of `dtype`: cast
    (2.7 into an int array is 2)."""
    text = value.text if text is None else text
    if value.fact.kind is Kind.SCALAR and not value.fact.tensor:
        if value.fact.pytype is float and dtype.kind in "iub":
            return f"tf.cast(tf.constant({text}, tf.float64), {F.tf_name(dtype)})"
        return literal_tensor(text, dtype)
    if value.fact.dtype != dtype:
        return f"tf.cast({text}, {F.tf_name(dtype)})"
    return text


def _row_update(lw, statement, target, name, array, value):
    """`a[i] = row` (one integer index, a whole row): `tf.tensor_scatter_nd_update`."""
    if isinstance(target.slice, (gast.Tuple, gast.Slice)):
        return None
    index = lw.expr(target.slice)
    fact = index.fact
    integer = (fact.kind is Kind.SCALAR and fact.pytype is int) or (
        fact.kind is Kind.ARRAY and fact.rank == 0 and fact.dtype is not None and fact.dtype.kind in "iu")
    if not integer:
        return None
    if fact.known and fact.value < 0:
        position = f"tf.shape({name})[0] - {-fact.value}"
    elif fact.known or fact.pytype is int and not fact.tensor:
        position = index.text
    else:
        position = f"tf.where({index.text} < 0, {index.text} + tf.shape({name}, out_type={index.text}.dtype)[0], " \
                   f"{index.text})"
    row = value.text if value.fact.dtype == array.dtype else f"tf.cast({value.text}, {F.tf_name(array.dtype)})"
    lw.out.patterns.add("ndarray.__setitem__")
    return f"{name} = tf.tensor_scatter_nd_update({name}, [[{position}]], [{row}])"


def _region(lw, target, array) -> str:
    components = list(target.slice.elts) if isinstance(target.slice, gast.Tuple) else [target.slice]
    if len(components) == 1 and not isinstance(components[0], gast.Slice):
        index = lw.expr(components[0])
        if index.fact.kind is Kind.ARRAY and index.fact.dtype is not None and index.fact.dtype.kind == "b":
            if index.fact.rank is None or array.rank is None or index.fact.rank > array.rank:
                raise Refusal(target, "the mask's rank must be known and at most the array's")
            text = index.text
            for _ in range(array.rank - index.fact.rank):
                text = f"tf.expand_dims({text}, -1)"
            return text
    conditions = []
    ellipsis = [i for i, c in enumerate(components) if isinstance(c, gast.Constant) and c.value is Ellipsis]
    if len(ellipsis) > 1:
        raise Inconsistent("an index can only have a single ellipsis")
    if not ellipsis and array.rank is None:
        raise Refusal(target, "the array's rank must be known to update leading axes")
    split = ellipsis[0] if ellipsis else len(components)
    leading, trailing = components[:split], components[split + 1:]
    if leading and array.rank is None:
        raise Refusal(target, "the array's rank must be known to update leading axes")
    if array.rank is not None and len(leading) + len(trailing) > array.rank:
        raise Inconsistent("too many indices for the array")
    for position, component in enumerate(leading):
        condition = _axis_condition(lw, target, component, position, array, from_end=False)
        if condition:
            conditions.append(condition)
    for position, component in enumerate(trailing):
        axis_from_end = len(trailing) - position
        condition = _axis_condition(lw, target, component, axis_from_end, array, from_end=True)
        if condition:
            conditions.append(condition)
    if not conditions:
        return f"tf.ones_like({target.value.id}, dtype=tf.bool)"
    return " & ".join(conditions) if len(conditions) > 1 else conditions[0]


def _axis_condition(lw, target, component, axis, array, from_end: bool) -> str:
    """A boolean tensor, shaped to broadcast along one axis, true inside the index."""
    name = target.value.id
    size = f"tf.shape({name})[{-axis if from_end else axis}]"
    trailing = (axis - 1) if from_end else array.rank - 1 - axis
    positions = f"tf.range({size})"
    if trailing:
        positions = f"tf.reshape({positions}, [-1{', 1' * trailing}])"
    if isinstance(component, gast.Slice):
        lower, upper, step = (_literal(lw, part) for part in (component.lower, component.upper, component.step))
        if step not in (None, 1):
            if step <= 0:
                raise Refusal(component, "slices with negative steps are not rewritten in updates")
        parts = []
        start = None if lower is None else (str(lower) if lower >= 0 else f"{size} - {-lower}")
        if start is not None and lower != 0:
            parts.append(f"({positions} >= {start})")
        if upper is not None:
            parts.append(f"({positions} < {upper if upper >= 0 else f'{size} - {-upper}'})")
        if step not in (None, 1):
            offset = f"{positions} - {start}" if start not in (None, "0") else positions
            parts.append(f"(({offset}) % {step} == 0)")
        return " & ".join(parts)
    index = _literal(lw, component)
    if index is None:
        raise Refusal(component, "only integer literals and slices are rewritten as update indices")
    return f"({positions} == {index if index >= 0 else f'{size} - {-index}'})"


def _literal(lw, node):
    """An int literal (or None for an absent bound); anything else is refused."""
    if node is None:
        return None
    low = lw.expr(node)
    if low.fact.kind is Kind.SCALAR and low.fact.known and isinstance(low.fact.value, int) \
            and not isinstance(low.fact.value, bool):
        return low.fact.value
    raise Refusal(node, "update indices must be integer literals")
