"""One NumPy function to one TF function, for the decorator: parse its source, lower it for
the facts of the arguments it is called with, render it, and compile it against the
function's own globals and closure cells (the user's module is never touched).

`decorator.py` holds what the user calls (`autograph_numpy`, `NumpyFunction`): when to
convert, what to do when conversion fails. This module is the conversion itself.
"""
from __future__ import annotations

import inspect
import itertools
import linecache
import textwrap
import types

import gast
import numpy as np

from . import facts as F
from . import helper_source
from . import registry as registry_module
from .edits import Edit, apply_edits
from .facts import Fact, Kind
from .lower import FunctionLowering, Inconsistent, Lowered, Refusal
from .parse import ParseError, parse
from .render import render
from .resolve import Resolver

_COUNTER = itertools.count()


class CustomGradientOrder(TypeError):
    """@autograph_numpy and @tf.custom_gradient on one function: neither order can work (the
    decorator converts a function returning arrays; custom_gradient needs one returning
    `(y, grad)`), so the user gets the order that does, at once."""

    ADVICE = ("@autograph_numpy and @tf.custom_gradient cannot decorate the same function, in either order: "
              "put the NumPy forward in its own function decorated with @autograph_numpy, and call it from "
              "the @tf.custom_gradient function that returns (y, grad)")


def _returns_a_gradient_function(node) -> bool:
    """Whether a def returns `(y, grad)` with `grad` a function it defines (custom_gradient's form)."""
    if not isinstance(node, gast.FunctionDef):
        return False
    local_functions = {n.name for n in node.body if isinstance(n, gast.FunctionDef)}
    for statement in gast.walk(node):
        if isinstance(statement, gast.Return) and isinstance(statement.value, gast.Tuple):
            for element in statement.value.elts:
                if isinstance(element, gast.Lambda) or (isinstance(element, gast.Name)
                                                         and element.id in local_functions):
                    return True
    return False


class ConversionError(Exception):
    """The function can't be converted; the message says why (shown in the warning)."""


def _import_line(name: str, value) -> str | None:
    """An import statement binding `name` to `value` when it is a NumPy or TF object, so the
    resolver sees `np` as numpy exactly as it would in the module."""
    if isinstance(value, types.ModuleType):
        module = value.__name__
        if module.split(".")[0] in ("numpy", "tensorflow", "functools"):
            return f"import {module} as {name}"
        return None
    qualname = _numpy_qualname(value)
    if qualname:
        parent, _, attr = qualname.rpartition(".")
        return f"from {parent} import {attr} as {name}"
    return None


def _numpy_qualname(value) -> str | None:
    if isinstance(value, np.ufunc):
        return f"numpy.{value.__name__}"
    module = getattr(value, "__module__", None) or ""
    attr = getattr(value, "__name__", None)
    if not attr or not module.split(".")[0] in ("numpy", "tensorflow"):
        return None
    for parent in (module, "numpy", "numpy.fft", "numpy.linalg", "numpy.random"):
        try:
            holder = __import__(parent, fromlist=["_"])
        except ImportError:
            continue
        if getattr(holder, attr, None) is value:
            return f"{parent}.{attr}"
    return None


def fact_of(value) -> Fact | None:
    """Fact of a live value: arrays and tensors by dtype and rank, Python numbers as weak
    scalars, dtypes as dtypes."""
    if isinstance(value, bool | int | float | complex) and not isinstance(value, np.generic):
        return Fact(Kind.SCALAR, pytype=type(value))
    if isinstance(value, (np.ndarray, np.generic)):
        return Fact(Kind.ARRAY, dtype=value.dtype, rank=np.ndim(value), fresh=False)
    dtype = getattr(value, "dtype", None)
    shape = getattr(value, "shape", None)
    if dtype is not None and shape is not None and hasattr(dtype, "as_numpy_dtype"):  # a tf.Tensor / TensorSpec
        rank = shape.rank if hasattr(shape, "rank") else len(shape)
        return Fact(Kind.ARRAY, dtype=np.dtype(dtype.as_numpy_dtype), rank=rank, fresh=False)
    return None


class _Context:
    """Free names and user-function calls of one function, resolved from live values."""

    def __init__(self, fn, converter):
        self.fn = fn
        self.converter = converter
        self.values = dict(fn.__globals__)
        code = fn.__code__
        for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
            try:
                self.values[name] = cell.cell_contents
            except ValueError:  # an empty cell
                pass
        self.helpers: dict = {}  # injected name -> converted function
        self.control_flow = False  # whether any converted helper needs AutoGraph

    def free_fact(self, node):
        if node.id not in self.values:
            return None
        return fact_of(self.values[node.id])

    def convert_call(self, lowering, node):
        if not isinstance(node.func, gast.Name) or node.keywords:
            return None
        value = self.values.get(node.func.id)
        if not inspect.isfunction(value) or value is self.fn or _numpy_qualname(value):
            return None
        args = [lowering.expr(a) for a in node.args]
        facts = [a.fact for a in args]
        try:
            helper, returns, control_flow = self.converter(value, facts)
            self.control_flow |= control_flow
        except ConversionError as exc:
            raise Refusal(node, f"helper `{node.func.id}`: {exc}", "RW202") from None
        injected = f"{node.func.id}__tf"
        self.helpers[injected] = helper
        fact = returns[0] if len(returns) == 1 else F.OTHER
        text = f"{injected}({', '.join(a.text for a in args)})"
        return Lowered(text, fact, True)


def _parse_function(fn):
    """(parsed module, function node) from the function's own source, with import lines
    for the NumPy/TF names it uses prepended so they resolve as in its module."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise ConversionError(f"no source available ({exc})") from None
    names = set(fn.__code__.co_names) | set(fn.__code__.co_freevars)
    for const in fn.__code__.co_consts:  # names used by nested lambdas and comprehensions
        if isinstance(const, types.CodeType):
            names |= set(const.co_names) | set(const.co_freevars)
    context = _Context(fn, None)
    header = [line for name in sorted(names) if name in context.values
              for line in [_import_line(name, context.values[name])] if line]
    text = "\n".join(header) + "\n" + source
    try:
        module = parse(text, f"<{fn.__qualname__}>")
    except ParseError as exc:
        if fn.__name__ == "<lambda>":
            raise ConversionError("the lambda's source line is not a complete statement") from None
        raise ConversionError(f"cannot parse the source: {exc.message}") from None
    node = _find_function(module, fn)
    return module, node


def _find_function(module, fn):
    argnames = list(fn.__code__.co_varnames[: fn.__code__.co_argcount])
    if fn.__name__ == "<lambda>":
        lambdas = [n for n in gast.walk(module.tree) if isinstance(n, gast.Lambda)
                   and [a.id for a in n.args.args] == argnames]
        if len(lambdas) != 1:
            raise ConversionError("cannot tell which lambda on its source line this is")
        return lambdas[0]
    for node in module.tree.body:
        if isinstance(node, gast.FunctionDef) and node.name == fn.__name__:
            return node
    raise ConversionError("cannot find the function's definition in its source")


def convert(fn, arg_facts: list, registry=None):
    """(TF Python function, rewritten source, result facts, patterns, needs AutoGraph) for `fn`
    called with arguments of these facts; raises ConversionError."""
    registry = registry or registry_module.default()
    module, node = _parse_function(fn)
    if _returns_a_gradient_function(node):  # @tf.custom_gradient over @autograph_numpy
        raise CustomGradientOrder(CustomGradientOrder.ADVICE)
    params = [a.id for a in node.args.args]
    if node.args.vararg or node.args.kwarg or node.args.kwonlyargs or len(arg_facts) > len(params):
        raise ConversionError("only plain positional parameters are converted")
    env = {name: (fact or F.OTHER) for name, fact in zip(params, arg_facts)}
    defaults = fn.__defaults__ or ()
    for name, value in zip(params[len(params) - len(defaults):], defaults):
        env.setdefault(name, fact_of(value) or F.constant(value))
    context = _Context(fn, lambda helper, facts: _convert_helper(helper, facts, registry))
    try:
        lowered = FunctionLowering(node, module.source, Resolver(module), registry, env, context=context).run()
    except Refusal as refusal:
        raise ConversionError(_where(fn, module, refusal)) from None
    except Inconsistent as exc:
        raise ConversionError(f"NumPy rejects the function for these inputs: {exc}") from None
    if lowered.refusals:
        raise ConversionError(_where(fn, module, lowered.refusals[0]))
    lowered_text = _function_text(module, node, lowered.edits)
    needed = helper_source.used(lowered_text)  # NumPy-exact helpers: closure variables, like converted helpers
    lowered_text = helper_source.rename_calls(lowered_text, {name: name for name in needed})
    text = render(_function_text(module, node, {}), lowered_text)
    compiled = _compile(fn, node, text, {**context.helpers, **helper_source.functions(needed)})
    control_flow = context.control_flow or _has_control_flow(text)
    shown = "".join(helper_source.source(name) + "\n\n" for name in needed) + text
    return compiled, shown, [v.fact for _, v in lowered.returns], tuple(sorted(lowered.patterns)), control_flow


def _has_control_flow(text: str) -> bool:
    """Whether code may branch or loop on tensors, which AutoGraph must then convert. Code
    without any is traced as is, skipping AutoGraph's own conversion (most of a first call)."""
    import ast

    kinds = (ast.If, ast.For, ast.While, ast.IfExp, ast.BoolOp, ast.Assert, ast.Break, ast.Continue, ast.Try)
    return any(isinstance(node, kinds) for node in ast.walk(ast.parse(text)))


def _convert_helper(helper, facts, registry):
    compiled, _, returns, _, control_flow = convert(helper, facts, registry)
    return compiled, returns, control_flow


def _where(fn, module, refusal) -> str:
    header_lines = module.source.text[: module.source.text.index("\n") + 1].count("\n")
    line = getattr(refusal.node, "lineno", 0)
    first = fn.__code__.co_firstlineno
    location = f" (line {first + line - header_lines - 1})" if line else ""
    return f"{refusal.reason}{location}"


def _function_text(module, node, edits: dict) -> str:
    source = module.source
    if isinstance(node, gast.Lambda):
        start, end = source.span(node.body).start, source.span(node.body).end
        local = [Edit(s.start - start, s.end - start, t) for s, t in edits.items() if start <= s.start and s.end <= end]
        body = apply_edits(source.text[start:end], local)
        params = ", ".join(a.id for a in node.args.args)
        return f"def _lambda({params}):\n    return {body}\n"
    start = source.line_starts[node.lineno - 1]
    end = source.span(node).end
    local = [Edit(s.start - start, s.end - start, t) for s, t in edits.items() if start <= s.start and s.end <= end]
    return apply_edits(source.text[start:end], local) + "\n"


def _compile(fn, node, text: str, helpers: dict):
    """Compile the rewritten def against the original globals and closure cells; `tf` and
    converted helpers are extra closure variables, so the user's module is not touched."""
    import tensorflow

    extra = {"tf": tensorflow, **helpers}
    if fn.__globals__.get("tf") is tensorflow:
        extra.pop("tf")
    freevars = list(fn.__code__.co_freevars)
    outer = list(extra) + freevars
    factory = "def __rewriter_factory__({}):\n{}\n    return {}\n".format(
        ", ".join(outer), textwrap.indent(text, "    "), "_lambda" if isinstance(node, gast.Lambda) else node.name)
    namespace: dict = {}
    filename = f"<rewriter: {fn.__module__}.{fn.__qualname__} #{next(_COUNTER)}>"
    # AutoGraph (inside tf.function) reads the source of what it converts: register it.
    linecache.cache[filename] = (len(factory), None, factory.splitlines(keepends=True), filename)
    exec(compile(factory, filename, "exec"), fn.__globals__, namespace)
    inner_code = next(c for c in namespace["__rewriter_factory__"].__code__.co_consts if isinstance(c, types.CodeType))
    cells = dict(zip(freevars, fn.__closure__ or ()))
    closure = tuple(cells[name] if name in cells else types.CellType(extra[name]) for name in inner_code.co_freevars)
    compiled = types.FunctionType(inner_code, fn.__globals__, inner_code.co_name, fn.__defaults__, closure)
    compiled.__qualname__ = fn.__qualname__
    compiled.__doc__ = fn.__doc__
    return compiled
