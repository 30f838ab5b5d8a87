"""The `rewriter check` rules about functions traced by tf.function (RWC005-RWC007).

A traced function runs its Python once per trace: NumPy random draws are frozen (RWC005),
plain scalar arithmetic pays for tracing and gains nothing (RWC006), and each new Python
number passed in traces again (RWC007). Which functions are traced, and through which name
they are called, is worked out once here; the rules report through the checker (check_rules).
"""
from __future__ import annotations

from dataclasses import dataclass

import gast

from .check_function_bodies import ScalarArithmetic, number_literal, walk_skipping

TF_FUNCTION = frozenset({"tensorflow.function", "tensorflow.compat.v1.function", "tensorflow.compat.v2.function"})


@dataclass
class _Traced:
    """A function traced by tf.function: decorated, or wrapped as `g = tf.function(f)`."""

    fn: gast.FunctionDef
    marker: object              # the decorator, or the tf.function(...) call
    options: dict               # keyword -> value node of the tf.function(...) call
    sole_decorator: bool        # nothing else wraps it (call sites bind its own parameters)
    binding: object             # the node whose uses are the function's uses (def, or Name target)


class TracedFunctionRules:
    """RWC005-RWC007 for one module, over the checker's facts (`checker.calls`, its resolver)."""

    def __init__(self, checker):
        self.c = checker
        self.traced = self._traced_functions()

    def run(self):
        for traced in self.traced:
            self.rwc005_random_in_tf_function(traced)
            self.rwc006_trivial_tf_function(traced)
        self.rwc007_retracing_calls()

    # -- which functions are traced -----------------------------------------------------------------

    def _traced_functions(self) -> list:
        traced = []
        for node in gast.walk(self.c.module.tree):
            if isinstance(node, gast.FunctionDef):
                for decorator in node.decorator_list:
                    options = self._tf_function_options(decorator)
                    if options is not None:
                        traced.append(_Traced(node, decorator, options, len(node.decorator_list) == 1, node))
                        break
        for call in self.c.calls:
            # g = tf.function(f, ...): f is traced through the name g
            if self.c.qualname(call.func) not in TF_FUNCTION or not call.args:
                continue
            fn = self.c.resolver.function_def(call.args[0])
            parent = self.c.resolver.parents.get(call)
            if not isinstance(fn, gast.FunctionDef) or any(t.fn is fn for t in traced):
                continue
            binding = None
            if isinstance(parent, gast.Assign) and parent.value is call and len(parent.targets) == 1 \
                    and isinstance(parent.targets[0], gast.Name):
                binding = parent.targets[0]
            options = {k.arg: k.value for k in call.keywords if k.arg}
            traced.append(_Traced(fn, call, options, binding is not None and not fn.decorator_list, binding))
        return traced

    def _tf_function_options(self, decorator):
        """The keywords of a tf.function decorator ({} when bare), or None for another decorator."""
        if self.c.qualname(decorator) in TF_FUNCTION:
            return {}
        if isinstance(decorator, gast.Call) and self.c.qualname(decorator.func) in TF_FUNCTION:
            return {k.arg: k.value for k in decorator.keywords if k.arg}
        return None

    def _has_signature(self, traced) -> bool:
        value = traced.options.get("input_signature")
        return value is not None and not (isinstance(value, gast.Constant) and value.value is None)

    # -- RWC005 -----------------------------------------------------------------------------------

    def rwc005_random_in_tf_function(self, traced):
        for node in walk_skipping(traced.fn.body, self.c.site_targets):
            if not isinstance(node, gast.Call):
                continue
            name = self.c.qualname(node.func)
            if name is not None and name.startswith("numpy.random."):
                spelled = self.c.spelled(node.func)
            elif isinstance(node.func, gast.Attribute) and self._outer_generator(node.func.value, traced.fn):
                spelled = self.c.spelled(node.func)
            else:
                continue
            self.c.report(node, "RWC005",
                        f"`{spelled}` inside tf.function `{traced.fn.name}` runs once, when the function is "
                        "traced: every call reuses the same 'random' values; use tf.random (e.g. "
                        "tf.random.uniform) or a tf.random.Generator")

    def _outer_generator(self, node, fn) -> bool:
        """A NumPy Generator/RandomState bound outside `fn` (its draws inside `fn` are traced once)."""
        if not isinstance(node, gast.Name) or not self.c.is_numpy_generator(node):
            return False
        return all(self.c.resolver.enclosing(d, (gast.FunctionDef,)) is not fn for d in self.c.resolver.definitions(node))

    # -- RWC006 -----------------------------------------------------------------------------------

    def rwc006_trivial_tf_function(self, traced):
        fn = traced.fn
        if not traced.sole_decorator or self._has_signature(traced):
            return
        args = fn.args
        if args.vararg or args.kwarg or args.kwonlyargs or getattr(args, "posonlyargs", None):
            return
        params = {id(a) for a in args.args}
        if not ScalarArithmetic(self.c, fn, params).body_is_scalar():
            return
        if args.args:
            # parameters could be tensors: only when every use of the function is a call in this
            # file passing Python numbers are they known to be numbers
            calls = [c for c in self.c.calls if self._callee(c) is traced]
            if not calls or len(calls) != self.c.resolver.uses(traced.binding):
                return
            for call in calls:
                values = list(call.args) + [k.value for k in call.keywords]
                if any(isinstance(v, gast.Starred) for v in values) or any(k.arg is None for k in call.keywords):
                    return
                if not all(self._python_number(v) is not None for v in values):
                    return
        self.c.report(traced.marker, "RWC006",
                    f"tf.function `{fn.name}` only does Python scalar arithmetic (no TensorFlow ops, no "
                    "tensors): tracing costs more than it saves; drop tf.function and call it as plain Python")

    # -- RWC007 -----------------------------------------------------------------------------------

    def _callee(self, call):
        """The traced function a call invokes by name (`f(...)` for a decorated f, or `g(...)`
        for `g = tf.function(f)`), or None."""
        if not isinstance(call.func, gast.Name):
            return None
        defs = self.c.resolver.definitions(call.func)
        if len(defs) != 1:
            return None
        for traced in self.traced:
            if traced.binding is defs[0] and traced.sole_decorator:
                return traced
        return None

    def rwc007_retracing_calls(self):
        passed: dict = {}   # (traced id, parameter) -> [(node, value or LOOP)]
        for call in self.c.calls:
            traced = self._callee(call)
            if traced is None or self._has_signature(traced):
                continue
            if any(isinstance(a, gast.Starred) for a in call.args):
                continue
            params = [a.id for a in traced.fn.args.args]
            pairs = list(zip(params, call.args)) + [(k.arg, k.value) for k in call.keywords if k.arg]
            for param, node in pairs:
                value = self._python_number(node)
                if value is not None:
                    passed.setdefault((id(traced), param), (traced, []))[1].append((node, value))
        for (_, param), (traced, uses) in passed.items():
            values = {v for _, v in uses if v not in (_LOOP, _VARIES)}
            if len(values) < 2 and all(v not in (_LOOP, _VARIES) for _, v in uses):
                continue   # one value: one trace
            shown = ", ".join(repr(v) for v in sorted(values, key=repr)[:4]) + (", ..." if len(values) > 4 else "")
            for node, value in uses:
                if value is _LOOP:
                    what = f"the loop variable `{node.id}` (a new Python int on every iteration)"
                    example = node.id
                elif value is _VARIES:
                    what = f"`{self.c.spelled(node)}`, a Python number that changes between calls"
                    example = self.c.spelled(node)
                else:
                    what = f"the Python number {self.c.spelled(node)}"
                    example = self.c.spelled(node)
                    what += f" (values in this file: {shown})"
                self.c.report(node, "RWC007",
                            f"tf.function `{traced.fn.name}` is called with {what} for `{param}`: each new Python "
                            f"value traces a new graph; pass tf.constant({example}) or declare an "
                            "input_signature (reduce_retracing does not generalize Python numbers)")

    def _python_number(self, node, depth: int = 0):
        """What the file shows `node` to be when it is a Python number: its value when it is
        always the same one, _LOOP for a range loop's variable, _VARIES for a number that
        changes (`lr = base * decay ** epoch` in a loop); None when it may be anything else.
        A name counts when every assignment to it gives a Python number."""
        value = number_literal(node)
        if value is not None or depth > 4:
            return value
        if self._range_loop_variable(node):
            return _LOOP
        if isinstance(node, gast.BinOp) and isinstance(node.op, _ARITHMETIC):
            parts = [self._python_number(n, depth + 1) for n in (node.left, node.right)]
            return None if None in parts else _VARIES
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
            return None if self._python_number(node.operand, depth + 1) is None else _VARIES
        if not (isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load)):
            return None
        values = []
        for definition in self.c.resolver.definitions(node):
            statement = self.c.resolver.parents.get(definition)
            if isinstance(statement, gast.Assign) and statement.targets == [definition]:
                values.append(self._python_number(statement.value, depth + 1))
            elif isinstance(statement, gast.AugAssign) and statement.target is definition:
                values.append(_VARIES if self._python_number(statement.value, depth + 1) is not None else None)
            else:
                return None
        if not values or None in values:
            return None
        if len({repr(v) for v in values}) == 1 and values[0] not in (_LOOP, _VARIES):
            return values[0]  # every assignment gives the same number
        return _VARIES

    def _range_loop_variable(self, node) -> bool:
        if not isinstance(node, gast.Name) or not isinstance(node.ctx, gast.Load):
            return False
        defs = self.c.resolver.definitions(node)
        if not defs:
            return False
        for d in defs:
            loop = self.c.resolver.parents.get(d)
            if not (isinstance(loop, gast.For) and loop.target is d and isinstance(loop.iter, gast.Call)
                    and self.c.resolver.builtin(loop.iter.func) is range):
                return False
        return True


_LOOP = object()
_VARIES = object()
_ARITHMETIC = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.FloorDiv, gast.Mod, gast.Pow)
