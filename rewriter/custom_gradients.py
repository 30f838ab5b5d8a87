"""Sites inside a `@tf.custom_gradient` function: a NumPy forward with a hand-written gradient.

People who need gradients through NumPy code write them by hand: the forward calls NumPy
through `tf.numpy_function` / `tf.py_function`, the function returns `(y, grad)` with `grad`
in TF. Once the forward is native TF, autodiff gives its exact gradient, so the hand-written
one is either redundant or a bug: `fix --verify` compares the two (`verify_custom_gradient`),
and `--drop-redundant-gradients` removes a wrapper whose gradient agreed (`drop_edits`).

This module reads the source only; nothing here runs the user's code.
"""
from __future__ import annotations

from dataclasses import dataclass

import gast

from .edits import Edit

CUSTOM_GRADIENT = frozenset({"tensorflow.custom_gradient", "tensorflow.compat.v1.custom_gradient",
                             "tensorflow.compat.v2.custom_gradient"})


@dataclass
class CustomGradient:
    """The `@tf.custom_gradient` function a site's call sits in, and its gradient function."""

    function: gast.FunctionDef          # the decorated function: the forward
    decorator: object                   # its `@tf.custom_gradient` expression
    grad: gast.FunctionDef | None       # the `def grad(dy): ...` it returns, when it returns one
    returned: gast.Return | None        # its `return y, grad`
    unchecked: str = ""                 # why --verify cannot check the gradient (so it is never dropped)

    def describe(self) -> dict:
        """What the report records about it before (or without) any check."""
        return {"function": self.function.name, "gradient": self.grad.name if self.grad else "",
                "line": self.function.lineno}


def custom_gradient_around(call, site_inputs, resolver) -> CustomGradient | None:
    """The `@tf.custom_gradient` function whose body holds `call` (not in a nested def), or None."""
    function = resolver.enclosing(call, (gast.FunctionDef, gast.Lambda))
    if not isinstance(function, gast.FunctionDef):
        return None
    decorator = next((d for d in function.decorator_list if resolver.qualname(d) in CUSTOM_GRADIENT), None)
    if decorator is None:
        return None
    returned = function.body[-1] if isinstance(function.body[-1], gast.Return) else None
    grad = _gradient_function(function, returned)
    found = CustomGradient(function, decorator, grad, returned if grad else None)
    found.unchecked = _why_unchecked(found, site_inputs, resolver)
    return found


def _gradient_function(function, returned):
    """The nested `def` named by the second item of `return y, grad`."""
    value = returned.value if returned is not None else None
    if not (isinstance(value, gast.Tuple) and len(value.elts) == 2 and isinstance(value.elts[1], gast.Name)):
        return None
    name = value.elts[1].id
    return next((s for s in function.body if isinstance(s, gast.FunctionDef) and s.name == name), None)


def _why_unchecked(found: CustomGradient, site_inputs, resolver) -> str:
    function, grad = found.function, found.grad
    if grad is None:
        return f"`{function.name}` does not end with `return y, grad` for a `def grad` it defines"
    if len(function.decorator_list) > 1 or grad.decorator_list:
        return "decorators other than @tf.custom_gradient are not checked"
    if not isinstance(resolver.parents.get(function), gast.Module):
        return f"`{function.name}` is not defined at module level: --verify has no handle to call it by"
    arguments = grad.args
    if len(arguments.args) != 1 or arguments.vararg or arguments.kwonlyargs or arguments.kwarg:
        return (f"`{grad.name}` takes more than `dy` (tf.Variable gradients or several outputs): "
                "only a gradient of `dy` alone is checked")
    parameters = function.args
    names = [a.id for a in parameters.args]
    if parameters.vararg or parameters.kwonlyargs or parameters.kwarg or parameters.defaults:
        return f"`{function.name}` takes more than plain positional parameters"
    if [e.id if isinstance(e, gast.Name) else None for e in site_inputs or []] != names:
        return f"the NumPy call's inputs are not `{function.name}`'s parameters ({', '.join(names)}), in order"
    uses = [n for n in gast.walk(function) if isinstance(n, gast.Name) and n.id == grad.name]
    if len(uses) != 1:
        return f"`{grad.name}` is used elsewhere than in the `return`"
    return ""


def drop_edits(found: CustomGradient, source) -> list:
    """Edits turning the `@tf.custom_gradient` function into the plain forward: the decorator
    line and the `def grad` go (with the blank lines after it), `return y, grad` returns `y`."""
    decorator_line = found.decorator.lineno
    grad = found.grad
    after_grad = grad.end_lineno
    while after_grad < len(source.lines) and not source.lines[after_grad].strip():
        after_grad += 1
    tuple_node = found.returned.value
    value = tuple_node.elts[0]
    tuple_span, value_span = source.span(tuple_node), source.span(value)
    edits = [
        Edit(source.line_starts[decorator_line - 1], source.line_starts[decorator_line], ""),
        Edit(source.line_starts[grad.lineno - 1], source.line_starts[after_grad], ""),
        Edit(tuple_span.start, value_span.start, ""),   # `(` of `return (y, grad)`
        Edit(value_span.end, tuple_span.end, ""),
    ]
    return [edit for edit in edits if edit.start < edit.end]
