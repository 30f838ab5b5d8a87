"""A branch's values over the elements of a 1-D array, selected with `tf.where` instead of
gathered with `tf.boolean_mask` (which costs a Where and a gather per branch: several times
the whole accumulation on CPU).

Selected after the fact, a branch is computed on elements the loop never gave it. That is
safe only when doing so can't raise nor leak:

* the value is fed the element where the branch is taken and a zero elsewhere
  (`tf.where(c, a, 0)`), then selected again (`tf.where(c, f(..), 0)`): an inf or NaN that
  `f` makes of a zero (`log(0)`, `1 / 0`) is dropped by the outer selection, and its
  gradient, zero times that inf, is dropped by the inner one, so no NaN reaches the input;
* floating elements only, and a value built only from the element, constants, arithmetic and
  NumPy ufuncs: on floats these never raise (an integer division by zero does, in TF).

A value linear in the element with number coefficients (`2 * v`, `v - 1`, `-v / 4`) needs the
outer selection only: its gradient is a constant, so an inf or NaN element the branch does not
take gets a zero gradient from the selection alone.

Anything else keeps the gather (accumulate.py's `tf.boolean_mask`).
"""
from __future__ import annotations

import gast
import numpy as np

from . import facts as F
from .edits import substitute

_ARITHMETIC = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow, gast.USub, gast.UAdd)


def computable_on_any_element(lw, value, loop) -> bool:
    """Whether the branch value `value` (syntax) may be computed on every element of the loop's
    1-D floating array: see the module docstring."""
    element = loop.element[loop.name]
    if element.rank != 0 or element.dtype is None or element.dtype.kind != "f" or not loop.text.isidentifier():
        return False
    return all(_harmless(lw, node, loop.name) for node in gast.walk(value))


def _harmless(lw, node, row: str) -> bool:
    """Whether one node of a branch value is the element, a number, arithmetic or a ufunc."""
    if isinstance(node, (gast.BinOp, gast.UnaryOp)):
        return isinstance(node.op, _ARITHMETIC)
    if isinstance(node, gast.Call):
        qualname = lw.resolver.qualname(node.func) or ""
        return not node.keywords and qualname.startswith("numpy.") \
            and isinstance(getattr(np, qualname.removeprefix("numpy."), None), np.ufunc)
    if isinstance(node, gast.Name):
        fact = lw.env.get(node.id)
        return node.id == row or lw.resolver.qualname(node) == "numpy" or fact is not None and (
            fact.kind is F.Kind.SCALAR or fact.kind is F.Kind.ARRAY and fact.rank == 0)
    return isinstance(node, (gast.Constant, gast.Attribute, gast.expr_context, gast.operator, gast.unaryop))


def selected_values(value, value_text: str, loop, mask: str, dtype) -> str:
    """The per-element values of a branch (`value` its syntax, lowered to `value_text`), zero
    where its condition `mask` does not hold."""
    fed = loop.text if _linear(value, loop.name) else f"tf.where({mask}, {loop.text}, tf.zeros_like({loop.text}))"
    return f"tf.where({mask}, {substitute(value_text, {loop.name: fed})}, tf.constant(0, {F.tf_name(dtype)}))"


def _linear(node, element: str) -> bool:
    """Whether `node` is linear in `element` with number literals as its coefficients."""
    if not _mentions(node, element) or isinstance(node, gast.Name):
        return True
    if isinstance(node, gast.UnaryOp):
        return isinstance(node.op, (gast.USub, gast.UAdd)) and _linear(node.operand, element)
    if not isinstance(node, gast.BinOp):
        return False
    left, right = node.left, node.right
    if isinstance(node.op, (gast.Add, gast.Sub)):
        return _linear(left, element) and _linear(right, element)
    if isinstance(node.op, gast.Mult):
        return _number(left) is not None and _linear(right, element) or _number(right) is not None and _linear(left, element)
    if isinstance(node.op, gast.Div):
        return _number(right) not in (None, 0) and _linear(left, element)
    return False


def _mentions(node, element: str) -> bool:
    return any(isinstance(n, gast.Name) and n.id == element for n in gast.walk(node))


def _number(node):
    """The value of a number literal (`2`, `-0.5`), or None."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        node = node.operand
    if isinstance(node, gast.Constant) and type(node.value) in (int, float):
        return node.value
    return None
