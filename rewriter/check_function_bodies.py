"""What a function body computes, for `rewriter check`: elementwise math on its one parameter
(RWC002: tf.map_fn over it could be one whole-tensor call) or plain Python scalar arithmetic
(RWC006: tf.function around it only costs a trace).

Each analysis walks the body with the checker's resolver (`checker.resolver`, `qualname`,
`binding_values`, `module_level`, see check_rules.Checker); the small syntax helpers the rules
share are at the end.
"""
from __future__ import annotations

import gast
import numpy as np

from .sites import bind_arguments

# TensorFlow ops that act element by element (with broadcasting): each is reachable as
# tensorflow.math.<op> and most as tensorflow.<op>.
_TF_ELEMENTWISE_MATH = (
    "abs acos acosh angle asin asinh atan atan2 atanh ceil conj cos cosh digamma divide divide_no_nan "
    "equal erf erfc erfinv exp expm1 floor floordiv floormod greater greater_equal imag is_finite is_inf "
    "is_nan lgamma less less_equal log log1p log_sigmoid logical_and logical_not logical_or logical_xor "
    "maximum minimum mod multiply multiply_no_nan ndtri negative not_equal pow real reciprocal "
    "reciprocal_no_nan rint round rsqrt sigmoid sign sin sinh softplus softsign sqrt square "
    "squared_difference subtract tan tanh truediv xdivy xlog1py xlogy add realdiv"
).split()
_TF_ELEMENTWISE_NN = "relu relu6 elu selu gelu leaky_relu sigmoid tanh softplus softsign silu swish".split()
TF_ELEMENTWISE = frozenset(
    [f"tensorflow.math.{op}" for op in _TF_ELEMENTWISE_MATH]
    + [f"tensorflow.{op}" for op in _TF_ELEMENTWISE_MATH]
    + [f"tensorflow.nn.{op}" for op in _TF_ELEMENTWISE_NN]
    + ["tensorflow.cast", "tensorflow.dtypes.cast", "tensorflow.saturate_cast", "tensorflow.dtypes.saturate_cast",
       "tensorflow.clip_by_value", "tensorflow.identity", "tensorflow.where", "tensorflow.math.divide"]
)
_THREE_ARGUMENT_ONLY = frozenset({"tensorflow.where", "numpy.where"})   # one argument: indices
TF_COND = frozenset({"tensorflow.cond", "tensorflow.compat.v1.cond", "tensorflow.compat.v2.cond"})

_SCALAR_BUILTINS = frozenset({"abs", "min", "max", "round", "int", "float", "pow", "complex", "bool", "divmod"})


# -- elementwise functions (RWC002) ------------------------------------------------------------------

class Elementwise:
    """Whether a one-parameter def/lambda only does elementwise math on its parameter, so that
    applying it to the whole tensor equals mapping it over the elements."""

    def __init__(self, checker, fn):
        self.c, self.fn = checker, fn
        self.uses_cond = False

    def verdict(self):
        """None (not elementwise), "plain" or "cond" (elementwise once tf.cond becomes tf.where)."""
        fn, args = self.fn, self.fn.args
        if args.vararg or args.kwarg or args.kwonlyargs or len(args.args) != 1 or args.defaults:
            return None
        if getattr(args, "posonlyargs", None):
            return None
        self.param = args.args[0]
        self.dependent = {id(self.param)}   # nodes (param, assigned Name targets) derived from it
        self.locals = set()
        if isinstance(fn, gast.Lambda):
            ok = self.expr(fn.body) and self.depends(fn.body)
        else:
            ok = self.body(fn.body)
        if not ok:
            return None
        return "cond" if self.uses_cond else "plain"

    def body(self, statements) -> bool:
        statements = list(statements)
        if statements and is_docstring(statements[0]):
            statements = statements[1:]
        if not statements or not isinstance(statements[-1], gast.Return) or statements[-1].value is None:
            return False
        for statement in statements[:-1]:
            if not (isinstance(statement, gast.Assign) and len(statement.targets) == 1
                    and isinstance(statement.targets[0], gast.Name) and self.expr(statement.value)):
                return False
            target = statement.targets[0]
            self.locals.add(id(target))
            if self.depends(statement.value):
                self.dependent.add(id(target))
        result = statements[-1].value
        return self.expr(result) and self.depends(result)

    def depends(self, node) -> bool:
        for sub in gast.walk(node):
            if isinstance(sub, gast.Name) and isinstance(sub.ctx, gast.Load):
                if any(id(d) in self.dependent for d in self.c.resolver.definitions(sub)):
                    return True
        return False

    def expr(self, node) -> bool:
        if isinstance(node, gast.Constant):
            return isinstance(node.value, (int, float, complex)) or node.value is None
        if isinstance(node, gast.Name):
            return self.name(node)
        if isinstance(node, gast.BinOp):
            return not isinstance(node.op, gast.MatMult) and self.expr(node.left) and self.expr(node.right)
        if isinstance(node, gast.UnaryOp):
            return isinstance(node.op, (gast.USub, gast.UAdd, gast.Invert)) and self.expr(node.operand)
        if isinstance(node, gast.Compare):
            return len(node.ops) == 1 and isinstance(node.ops[0], (gast.Lt, gast.LtE, gast.Gt, gast.GtE)) \
                and self.expr(node.left) and self.expr(node.comparators[0])
        if isinstance(node, gast.Call):
            return self.call(node)
        return False

    def name(self, node) -> bool:
        if not isinstance(node.ctx, gast.Load):
            return False
        defs = self.c.resolver.definitions(node)
        if not defs:
            return False
        if all(d is self.param or id(d) in self.locals for d in defs):
            return True
        # a module-level Python number (ALPHA = 1.7) broadcasts like a literal
        values = self.c.binding_values(node)
        return bool(values) and all(self.c.module_level(d) for d in defs) and all(
            number_literal(v) is not None for v in values)

    def static(self, node) -> bool:
        """An argument that is no value at all: a dtype, a name string, a constant."""
        if isinstance(node, gast.Constant):
            return True
        name = self.c.qualname(node)
        return name is not None and (name.startswith("tensorflow.") or name.startswith("numpy."))

    def call(self, node) -> bool:
        name = self.c.qualname(node.func)
        if name is None:
            return False
        values = list(node.args) + [k.value for k in node.keywords]
        if any(isinstance(v, gast.Starred) for v in node.args) or any(k.arg is None for k in node.keywords):
            return False
        if name in TF_COND:
            return self.cond(node)
        if name in _THREE_ARGUMENT_ONLY and len(values) != 3:
            return False
        if name in TF_ELEMENTWISE or name in ("numpy.where", "numpy.clip") or _is_elementwise_ufunc(name):
            return all(self.expr(v) or self.static(v) for v in values)
        return False

    def cond(self, node) -> bool:
        """tf.cond(pred, lambda: a, lambda: b) with elementwise parts: tf.where over the tensor."""
        args = bind_arguments(node, ("pred", "true_fn", "false_fn"))
        if args is None or not {"pred", "true_fn", "false_fn"} <= args.keys():
            return False
        if set(args) - {"pred", "true_fn", "false_fn", "name"}:
            return False
        branches = (args["true_fn"], args["false_fn"])
        if not all(isinstance(b, gast.Lambda) and not b.args.args and not b.args.vararg and not b.args.kwarg
                   for b in branches):
            return False
        if not (self.expr(args["pred"]) and all(self.expr(b.body) for b in branches)):
            return False
        self.uses_cond = True
        return True


def _is_elementwise_ufunc(name: str) -> bool:
    obj = numpy_object(name)
    return isinstance(obj, np.ufunc) and obj.signature is None


def numpy_object(qualname: str):
    """The NumPy object a dotted `numpy.` name denotes, or None (TensorFlow is never imported)."""
    if not qualname.startswith("numpy."):
        return None
    obj = np
    for part in qualname.split(".")[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


# -- Python scalar arithmetic (RWC006) --------------------------------------------------------------

class ScalarArithmetic:
    """Whether a function body is plain Python number arithmetic: literals, parameters, locals,
    module-level numbers, operators, `math` and a few builtins."""

    def __init__(self, checker, fn, params: set):
        self.c, self.fn, self.params = checker, fn, params

    def body_is_scalar(self) -> bool:
        statements = list(self.fn.body)
        if statements and is_docstring(statements[0]):
            statements = statements[1:]
        if not statements or not any(isinstance(n, gast.Return) and n.value is not None
                                     for s in statements for n in gast.walk(s)):
            return False
        return all(self.statement(s) for s in statements)

    def statement(self, node) -> bool:
        if isinstance(node, gast.Assign):
            return all(self.target(t) for t in node.targets) and self.expr(node.value)
        if isinstance(node, gast.AugAssign):
            return self.target(node.target) and self.expr(node.value)
        if isinstance(node, gast.Return):
            return node.value is not None and self.expr(node.value)
        if isinstance(node, gast.If):
            return self.expr(node.test) and all(self.statement(s) for s in node.body + node.orelse)
        return isinstance(node, gast.Pass)

    def target(self, node) -> bool:
        if isinstance(node, gast.Name):
            return True
        return isinstance(node, gast.Tuple) and all(isinstance(e, gast.Name) for e in node.elts)

    def expr(self, node) -> bool:
        if isinstance(node, gast.Constant):
            return isinstance(node.value, (bool, int, float, complex))
        if isinstance(node, gast.Name):
            return self.name(node)
        if isinstance(node, gast.BinOp):
            return not isinstance(node.op, gast.MatMult) and self.expr(node.left) and self.expr(node.right)
        if isinstance(node, gast.UnaryOp):
            return self.expr(node.operand)
        if isinstance(node, gast.BoolOp):
            return all(self.expr(v) for v in node.values)
        if isinstance(node, gast.Compare):
            return self.expr(node.left) and all(self.expr(v) for v in node.comparators)
        if isinstance(node, gast.IfExp):
            return self.expr(node.test) and self.expr(node.body) and self.expr(node.orelse)
        if isinstance(node, gast.Tuple):
            return all(self.expr(e) for e in node.elts)
        if isinstance(node, gast.Attribute):
            name = self.c.qualname(node)
            return name is not None and name.startswith("math.")
        if isinstance(node, gast.Call):
            if node.keywords or any(isinstance(a, gast.Starred) for a in node.args):
                return False
            builtin = self.c.resolver.builtin(node.func)
            name = self.c.qualname(node.func)
            ok = (builtin is not None and getattr(builtin, "__name__", None) in _SCALAR_BUILTINS) or \
                (name is not None and name.startswith("math."))
            return ok and all(self.expr(a) for a in node.args)
        return False

    def name(self, node) -> bool:
        if not isinstance(node.ctx, gast.Load):
            return False
        defs = self.c.resolver.definitions(node)
        if not defs:
            return False
        local = [d for d in defs if self.c.resolver.enclosing(d, (gast.FunctionDef,)) is self.fn]
        if len(local) == len(defs):
            return True   # parameters and locals: the statements assigning them are checked too
        if local:
            return False
        values = self.c.binding_values(node)
        return bool(values) and all(self.c.module_level(d) for d in defs) and all(
            number_literal(v) is not None for v in values)


# -- shared helpers ----------------------------------------------------------------------------------

def number_literal(node):
    """The value of a Python int/float/complex literal (`3`, `-0.5`), else None (bools excluded)."""
    sign = 1
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        sign = -1 if isinstance(node.op, gast.USub) else 1
        node = node.operand
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float, complex)) \
            and not isinstance(node.value, bool):
        return sign * node.value
    return None


def is_docstring(statement) -> bool:
    return isinstance(statement, gast.Expr) and isinstance(statement.value, gast.Constant) \
        and isinstance(statement.value.value, str)


def walk_skipping(statements, skipped):
    """Every node under `statements`, not descending into the function nodes in `skipped`."""
    stack = list(reversed(statements))
    while stack:
        node = stack.pop()
        if node in skipped:
            continue
        yield node
        stack.extend(reversed(list(gast.iter_child_nodes(node))))
