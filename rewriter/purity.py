"""Which expressions the render stage may move or share: those whose evaluation changes nothing
but their own value, in positions Python evaluates whenever their statement runs.

A TF op that draws random numbers, prints, or touches a variable is never moved or computed
once for two uses; nor is anything inside a lambda, a comprehension or one branch of an
`if`-expression moved ahead of its statement.
"""
from __future__ import annotations

import ast
import re

from .source_text import SCOPES

STATEFUL = re.compile(r"^(random|print|Variable|numpy_function|py_function|compat|summary|debugging|io|data|"
                       r"keras|saved_model|distribute|config|raw_ops|function|autograph)\b"
                       r"|(^|\.)(random_\w*|dropout)$")  # tf.image.random_flip_left_right, tf.nn.dropout


def walk_unconditional(node, branches: bool = False):
    """Nodes of an expression or statement that run whenever it does, outermost first: not
    inside a lambda's body, a comprehension, an `if`-expression's branches, the later operands
    of `and` / `or`, or assignment targets. With `branches`, the nodes of those branches and
    operands too (they may run: they can read a value computed before the statement)."""
    yield node
    if isinstance(node, (*SCOPES, ast.ClassDef, ast.Lambda)):
        return  # a body that runs when it is called, not here
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        yield from walk_unconditional(node.generators[0].iter, branches)
        return
    if isinstance(node, (ast.IfExp, ast.BoolOp)) and not branches:
        yield from walk_unconditional(node.test if isinstance(node, ast.IfExp) else node.values[0])
        return
    for field, value in ast.iter_fields(node):
        if field == "targets" or (field == "target" and isinstance(node, (ast.AugAssign, ast.AnnAssign))):
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST):
                yield from walk_unconditional(child, branches)


def pure(node, ops) -> bool:
    """Whether evaluating the expression earlier, or once instead of twice, changes nothing:
    names, constants, arithmetic, subscripts and TensorFlow ops that neither draw random
    numbers nor touch state."""
    return all(ops.pure_call(part) if isinstance(part, ast.Call) else not isinstance(part, IMPURE)
               for part in ast.walk(node))


def calls_pure_ops_only(statement, ops) -> bool:
    """Whether running the statement can change nothing but what it assigns: each call in it
    is a pure TF op (a variable's `assign` or a user function could change any value)."""
    return all(ops.pure_call(part) if isinstance(part, ast.Call) else not isinstance(part, SUSPENDS)
               for part in ast.walk(statement))


class PureOps:
    """Which calls neither draw random numbers nor touch state: TensorFlow's ops (not
    `tf.random`, `tf.print`, variables...), a few builtins, and the file's rewriter helpers."""

    def __init__(self, tf_alias: str = "tf", helpers=(), constants=frozenset()):
        self.tf_alias, self.helpers = tf_alias, frozenset(helpers)
        self.constants = constants
        """The module's names bound once to a number (`number_constants`): arithmetic on them is trivial."""

    def pure_call(self, call) -> bool:
        callee = ast.unparse(call.func)
        head, _, rest = callee.partition(".")
        if not rest:
            return callee in PURE_BUILTINS or callee in self.helpers
        return head in (self.tf_alias, "tf") and not STATEFUL.search(rest)


PURE_BUILTINS = {"float", "int", "complex", "bool", "abs", "round", "min", "max", "len"}


SUSPENDS = (ast.Yield, ast.YieldFrom, ast.Await)


IMPURE = (ast.Lambda, ast.NamedExpr, ast.Starred, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
           *SUSPENDS)


def trivial(node, constants=frozenset()) -> bool:
    """Names, attributes of names, constants, literal tuples and arithmetic on numbers and the
    module's number `constants` (`M * M`, `GRID - 1`): nothing to share."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.BinOp):
        return all(isinstance(side, ast.Constant) or isinstance(side, ast.Name) and side.id in constants
                   or isinstance(side, ast.BinOp) and trivial(side, constants) for side in (node.left, node.right))
    if isinstance(node, ast.Attribute):
        return trivial(node.value)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(trivial(e, constants) for e in node.elts)
    return isinstance(node, (ast.Slice, ast.expr_context, ast.keyword, ast.Lambda))


def number_constants(tree) -> frozenset:
    """Module-level names bound once, to a number or arithmetic on numbers and such names."""
    bound: dict = {}
    for statement in tree.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else []
        for target in (t for t in targets if isinstance(t, ast.Name)):
            bound[target.id] = statement.value if target.id not in bound and len(targets) == 1 else None
    constants: set = set()
    for name, value in bound.items():  # in order: a constant may use those bound before it
        if value is not None and _number_arithmetic(value, constants):
            constants.add(name)
    return frozenset(constants)


def _number_arithmetic(value, constants) -> bool:
    for node in ast.walk(value):
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                return False
        elif isinstance(node, ast.Name):
            if node.id not in constants:
                return False
        elif not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop, ast.expr_context)):
            return False
    return True
