"""Names for the locals the render stage introduces, taken from what their value is.

`tf.shape(rewards)[0]` is `n_rewards`, `tf.cast(x, tf.float64)` is `x_float64`,
`tf.reduce_any(tf.math.is_nan(imgs), ...)` is `imgs_has_nan`: a reader sees what the local
holds without reading its definition. Anything without an obvious name gets None (the caller
picks a generic one).
"""
from __future__ import annotations

import ast
import re

MAX_LENGTH = 24

_REDUCTIONS = {"reduce_sum": "sum", "reduce_mean": "mean", "reduce_max": "max", "reduce_min": "min",
               "reduce_prod": "prod", "reduce_any": "any", "reduce_all": "all", "reduce_std": "std",
               "reduce_variance": "var", "reduce_logsumexp": "logsumexp", "norm": "norm",
               "count_nonzero": "count", "cumsum": "cumsum", "cumprod": "cumprod"}
_SUFFIXES = {"is_nan": "is_nan", "is_inf": "is_inf", "is_finite": "is_finite", "abs": "abs", "sqrt": "sqrt",
             "square": "squared", "exp": "exp", "log": "log", "transpose": "t", "bitcast": "bits",
             "argsort": "order", "sort": "sorted", "size": "size", "rank": "rank", "floor": "floor",
             "round": "rounded", "sign": "sign", "reverse": "reversed", "gather": "taken",
             "searchsorted": "positions", "maximum": "clipped", "minimum": "clipped", "concat": "joined",
             "stack": "stacked", "unstack": "parts", "one_hot": "one_hot", "matmul": "product",
             "reciprocal": "inverse", "real": "real", "imag": "imag", "conj": "conj"}
_OPERATORS = {ast.Add: "plus", ast.Sub: "minus", ast.Mult: "times", ast.Div: "over", ast.Pow: "power"}
_SIGNS = {ast.Gt: "positive", ast.Lt: "negative", ast.GtE: "nonnegative", ast.LtE: "nonpositive"}  # against 0
_COMPARISONS = {ast.Gt: "above", ast.Lt: "below", ast.GtE: "at_least", ast.LtE: "at_most", ast.Eq: "is",
                ast.NotEq: "is_not"}
_NUMBER_NAMES = {0: "zero", 1: "one"}


def describe(node, tf_alias: str = "tf") -> str | None:
    """A local name for the value of `node`, or None."""
    name = _describe(node, tf_alias)
    if not name:
        return None
    name = re.sub(r"_+", "_", re.sub(r"\W", "_", name)).strip("_").lower()
    if not name or name[0].isdigit() or len(name) > MAX_LENGTH:
        return None
    return name


def _describe(node, tf_alias):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _describe(node.value, tf_alias)
        return f"{base}_{node.attr}" if base and base != tf_alias else node.attr
    if isinstance(node, ast.Subscript):
        return _subscript(node, tf_alias)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _describe(node.left, tf_alias), _describe(node.right, tf_alias)
        if left and right and len(left) + len(right) < 16:
            return f"{left}_{_OPERATORS[type(node.op)]}_{right}"
        return None
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        return _comparison(node, tf_alias)
    if isinstance(node, ast.Call):
        return _call(node, tf_alias)
    return None


def _comparison(node, tf_alias):
    """`x > 0` is `x_positive`, `x <= limit` is `x_at_most_limit`."""
    left, op, right = node.left, type(node.ops[0]), node.comparators[0]
    base = _describe(left, tf_alias)
    if not base:
        return None
    if isinstance(right, ast.Constant) and not isinstance(right.value, bool) and right.value == 0 and op in _SIGNS:
        return f"{base}_{_SIGNS[op]}"
    other = _describe(right, tf_alias) or (str(right.value) if isinstance(right, ast.Constant) else None)
    return f"{base}_{_COMPARISONS[op]}_{other}" if other and op in _COMPARISONS else None


def _subscript(node, tf_alias):
    if _is_call(node.value, "shape") and node.value.args:
        base = _describe(node.value.args[0], tf_alias)
        index = node.slice
        if isinstance(index, ast.Constant) and index.value == 0:
            return f"n_{base}" if base else None
        if isinstance(index, ast.UnaryOp) and isinstance(index.operand, ast.Constant) and index.operand.value == 1:
            return f"{base}_len" if base else None
        return f"{base}_dims" if base else None
    base = _describe(node.value, tf_alias)
    index = node.slice
    if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub) and isinstance(index.operand, ast.Constant) \
            and index.operand.value == 1:
        return f"{base}_last" if base else None
    if isinstance(index, ast.Constant) and isinstance(index.value, int) and base:
        return f"{base}_first" if index.value == 0 else f"{base}_{index.value}"
    return f"{base}_part" if base else None


def _call(node, tf_alias):
    callee = ast.unparse(node.func)
    head, _, op = callee.partition(".")
    op = op.rsplit(".", 1)[-1] if head == tf_alias else callee.rsplit(".", 1)[-1]
    first = _describe(node.args[0], tf_alias) if node.args else None
    if op == "cast" and len(node.args) > 1:
        dtype = ast.unparse(node.args[1]).rsplit(".", 1)[-1]
        return f"{first}_{dtype}" if first else None
    if op in ("convert_to_tensor", "identity", "stop_gradient", "ensure_shape", "squeeze", "expand_dims"):
        return first
    if op == "reshape" and first:
        flat = len(node.args) > 1 and ast.unparse(node.args[1]) == "[-1]"
        return f"{first}_flat" if flat else f"{first}_reshaped"
    if op == "shape":
        return f"{first}_shape" if first else None
    if op == "reduce_any" and node.args and _is_call(node.args[0], "is_nan"):
        inner = _describe(node.args[0].args[0], tf_alias) if node.args[0].args else None
        return f"{inner}_has_nan" if inner else None
    if op in _REDUCTIONS:
        return f"{first}_{_REDUCTIONS[op]}" if first else None
    if op == "where" and len(node.args) == 3:
        return _describe(node.args[1], tf_alias) or _describe(node.args[2], tf_alias)
    if op in _SUFFIXES:
        return f"{first}_{_SUFFIXES[op]}" if first else None
    if op == "range":
        return f"{first}_steps" if first else "steps"
    if op in ("equal", "logical_not") and node.args and (op == "logical_not" or (
            len(node.args) == 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value is False)):
        return f"not_{first}" if first else None  # tf.equal(c, False): not c (see accumulate.py)
    if op == "constant" and node.args and isinstance(node.args[0], ast.Constant) \
            and not isinstance(node.args[0].value, bool):
        return _NUMBER_NAMES.get(node.args[0].value)
    if op in ("zeros", "ones", "fill", "zeros_like", "ones_like"):
        return op.replace("_like", "")
    if op.startswith("np_"):  # a NumPy-exact helper: its result is what the NumPy call gives
        return f"{first}_{op[3:]}" if first else op[3:]
    return None


def _is_call(node, name: str) -> bool:
    return isinstance(node, ast.Call) and ast.unparse(node.func).rsplit(".", 1)[-1] == name
