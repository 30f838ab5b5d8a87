"""Lowering of calls: NumPy functions and array methods through the pattern registry,
TensorFlow calls kept as they are; Python builtins are `builtin_calls.py`'s.

This module decides what a call is (a NumPy function, an array method, a comprehension that
np.array stacks, np.vectorize, TF, a builtin, a user function) and hands it on; applying a
NumPy pattern to the bound arguments is `apply.py`'s job. The walker reaches `lower_call`
through the `handlers` table.
"""
from __future__ import annotations

import gast

from . import facts as F
from . import nested
from .apply import bind_and_apply, literal_tensor, numpy_object
from .builtin_calls import lower_builtin
from .facts import Fact, Kind
from .handlers import registers
from .lowered import Inconsistent, Lowered, Refusal
from .stacking import stack_rows, stacked_rows
from .tf_results import Diverges, TFRejects, call_result, table_name
from .vectorize import lower_list_comprehension, lower_reduced_comprehension, lower_vectorize_call, reduced_comprehension

__all__ = ["lower_call", "literal_tensor", "numpy_object"]
"""literal_tensor and numpy_object live in apply.py; pattern modules import them from here."""


@registers("call")
def lower_call(lw, node) -> Lowered:
    if any(isinstance(a, gast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise Refusal(node, "calls with *args or **kwargs are not rewritten")
    if isinstance(node.func, gast.Call) and lw.resolver.qualname(node.func.func) == "numpy.vectorize":
        args, kwargs = _lower_args(lw, node)
        if kwargs:
            raise Refusal(node, "keyword arguments to a vectorized function are not rewritten")
        lw.out.patterns.add("numpy.vectorize")
        return lower_vectorize_call(lw, node, node.func, args)
    rows = stacked_rows(lw, node)
    if rows is not None:  # a comprehension over rows, or a list a rewritten loop filled
        stacked = lower_list_comprehension(lw, rows) if isinstance(rows, gast.ListComp) \
            else Lowered(rows.id, lw.env[rows.id].value.fact)
        return stack_rows(lw, node, stacked)
    if reduced_comprehension(lw, node):
        return lower_reduced_comprehension(lw, node)
    qualname = lw.resolver.qualname(node.func)
    if qualname and qualname.startswith("numpy."):
        lw.out.leaves_tensorflow = True
        pattern = lw.registry.get(qualname)
        if pattern is None:
            raise Refusal(node, f"`{qualname}` has no TensorFlow lowering yet", "RW201")
        return bind_and_apply(lw, node, pattern, receiver=None)
    if qualname and (qualname == "tensorflow" or qualname.startswith(("tensorflow.", "keras.backend."))):
        return _tensorflow_call(lw, node)
    if isinstance(node.func, gast.Attribute) and not qualname:
        receiver = lw.expr(node.func.value)
        if receiver.fact.kind is Kind.ARRAY:
            return _method_call(lw, node, receiver)
        if receiver.fact.kind is Kind.OTHER and isinstance(receiver.fact.value, str) \
                and receiver.fact.value.startswith("numpy."):
            return _object_method(lw, node, receiver)
        return _opaque_call(lw, node, receiver)
    if lw.resolver.builtin(node.func) is not None:
        return lower_builtin(lw, node)
    function = lw.resolver.function_def(node.func) if isinstance(node.func, gast.Name) else None
    if isinstance(function, gast.FunctionDef) and nested.owner(lw, function) is lw.scope.fn:
        return nested.lower_call(lw, node, function)
    if lw.context is not None:
        converted = lw.context.convert_call(lw, node)
        if converted is not None:
            return converted
    if isinstance(node.func, gast.Name) and lw.resolver.function_def(node.func) is not None:
        raise Refusal(node, f"calls `{node.func.id}`, a function of this file that is not converted", "RW202")
    return _opaque_call(lw, node, None)


def _lower_args(lw, node):
    return [lw.expr(a) for a in node.args], {k.arg: lw.expr(k.value) for k in node.keywords}


def _spliced_call(lw, node, receiver, fact) -> Lowered:
    parts = [(a, lw.expr(a)) for a in node.args] + [(k.value, lw.expr(k.value)) for k in node.keywords]
    if receiver is not None:
        parts.insert(0, (node.func.value, receiver))
    return lw._splice(node, parts, fact)


def _opaque_call(lw, node, receiver) -> Lowered:
    """A call we know nothing about: fine as long as no array flows into it."""
    args, kwargs = _lower_args(lw, node)
    if any(v.fact.kind is Kind.ARRAY for v in [*args, *kwargs.values()]) or (
        receiver is not None and receiver.fact.kind is Kind.ARRAY
    ):
        raise Refusal(node, f"`{lw.source.segment(node.func)}` is not NumPy: an array passed to it "
                            "would leave the graph", "RW203")
    return _spliced_call(lw, node, receiver, F.OTHER)


def _object_method(lw, node, receiver) -> Lowered:
    """A method of a NumPy object that is not an array (`rng.normal(...)` on a Generator):
    its pattern is named after the object's type, e.g. `numpy.random.Generator.normal`."""
    name = f"{receiver.fact.value}.{node.func.attr}"
    pattern = lw.registry.get(name)
    if pattern is None:
        raise Refusal(node, f"`{name}` has no TensorFlow lowering yet", "RW201")
    return bind_and_apply(lw, node, pattern, receiver=receiver)


def _tensorflow_call(lw, node) -> Lowered:
    """Already TensorFlow: keep it. Its result is a TF tensor in the original too (`eager`);
    its dtype and rank come from `tf_results` for the ops people leave in wrapped bodies, and
    stay unknown for any other."""
    args, kwargs = _lower_args(lw, node)
    if any(v.fact.batched for v in [*args, *kwargs.values()]):
        raise Refusal(node, "a TensorFlow call inside a vectorized body has no batching rule here")
    lw.out.tensorflow_calls = True
    name = table_name(lw.resolver.qualname(node.func))
    try:
        fact = call_result(name, [_tf_argument(lw, n, v) for n, v in zip(node.args, args)],
                           {k.arg: _tf_argument(lw, k.value, kwargs[k.arg]) for k in node.keywords})
    except TFRejects as exc:
        raise Inconsistent(str(exc)) from None
    except Diverges as exc:
        raise Refusal(node, str(exc)) from None
    return _spliced_call(lw, node, None, fact or Fact(Kind.ARRAY, fresh=True, eager=True))


def _tf_argument(lw, node, value) -> Fact:
    """An argument's fact as TF reads it: `tf.float32` and `'float32'` name dtypes."""
    qualname = lw.resolver.qualname(node) or ""
    if qualname.startswith("tensorflow."):
        dtype = F.from_tf_name(qualname)
    elif isinstance(node, gast.Constant) and isinstance(node.value, str):
        dtype = F.from_tf_name(node.value)
    else:
        return value.fact
    return Fact(Kind.DTYPE, value=dtype) if dtype is not None else value.fact


def _method_call(lw, node, receiver) -> Lowered:
    attr = node.func.attr
    if attr == "numpy" and not node.args and not node.keywords:
        # `.numpy()` on a tensor (py_function bodies): the tensor itself is the value, which the
        # original now holds as a NumPy array of its own (a copy: it may be updated in place),
        # under NumPy's rules.
        lw.out.leaves_tensorflow = True
        fact = receiver.fact.with_(fresh=True) if receiver.fact.kind is Kind.ARRAY else receiver.fact
        return Lowered(receiver.text, fact.with_(eager=False), True)
    if receiver.fact.eager:
        raise Refusal(node, f"`.{attr}()` of a TensorFlow result: TF tensors have no such method")
    pattern = lw.registry.get(f"ndarray.{attr}")
    if pattern is None:
        raise Refusal(node, f"array method `.{attr}()` has no TensorFlow lowering yet", "RW201")
    return bind_and_apply(lw, node, pattern, receiver=receiver)
