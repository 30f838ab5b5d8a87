"""What AutoGraph cannot compile in a body that branches or loops on a tensor.

Such a body is emitted under `tf.autograph.to_graph` (`lowered.AUTOGRAPH_DECORATOR`), so its
`if`s and loops on tensors become graph ops, eagerly as well as traced. Some Python that ran
in the original then raises in AutoGraph. The walker asks these checks, and each refuses
(RW208, RW111) what would raise, so the site stays NumPy instead.
"""
from __future__ import annotations

import gast

from .facts import Fact, Kind
from .lowered import Refusal


def on_tensor(fact: Fact) -> bool:
    """Whether the rewrite holds this value as a tensor (an `if` on it compiles only through AutoGraph)."""
    return fact.tensor or fact.kind is Kind.ARRAY


def check_no_return_under(node):
    """AutoGraph compiles a `return` under an `if` on a tensor at the top of a function, but not
    nested in a loop or in another block: there it raises ValueError ("the else branch must also
    have a return statement") where the original ran. (A dispatch must not nest such an `if` in
    its branches either: `LoweredFunction.returns_under_graph_branch`.)"""
    found = returns_under(node)
    if found is not None:
        raise Refusal(found, "a `return` under an `if` on a tensor inside a loop or another block: AutoGraph "
                             "compiles it only at the top of the function", "RW208")


def returns_under(node):
    """The first `return` inside the `if` `node` (not in a nested def), or None."""
    pending = list(node.body + node.orelse)
    while pending:
        statement = pending.pop()
        if isinstance(statement, gast.Return):
            return statement
        if not isinstance(statement, (gast.FunctionDef, gast.Lambda)):
            pending.extend(gast.iter_child_nodes(statement))
    return None


def check_no_python_number_carried(env: dict, node, statements, where: str):
    """AutoGraph carries each name an `if` or a loop on a tensor rebinds as a tensor: a
    Python int becomes int32, a float float32, which then meet the other operands with TF's
    rules, not NumPy's weak scalars (`x * g` of float64 raises)."""
    for name in sorted(stored_names(statements)):
        fact = env.get(name)
        if fact is not None and fact.kind is Kind.SCALAR and not fact.tensor:
            raise Refusal(node, f"`{name}` is a Python number rebound in {where} on a tensor, which AutoGraph "
                                "carries as an int32 or float32 tensor", "RW208")


def check_converts(function):
    """The function is converted by `tf.autograph.to_graph` (it branches on a tensor) when the
    module is imported, which fails if AutoGraph rejects its source: a private `self.__name`
    (AutoGraph does not mangle names)."""
    for node in gast.walk(function):
        if isinstance(node, gast.Attribute) and node.attr.startswith("__") and not node.attr.endswith("__"):
            raise Refusal(node, f"`.{node.attr}` is a private (mangled) name, which AutoGraph cannot convert, and "
                                "the function's branch on a tensor compiles only through AutoGraph", "RW111")


def breaks(statements) -> bool:
    """Whether the statements hold a `break` of the loop around them (not of a loop inside)."""
    pending = list(statements)
    while pending:
        statement = pending.pop()
        if isinstance(statement, gast.Break):
            return True
        if not isinstance(statement, (gast.For, gast.While, gast.FunctionDef, gast.Lambda)):
            pending.extend(gast.iter_child_nodes(statement))
    return False


def stored_names(statements) -> set:
    """Names the statements bind, not counting those of nested functions and comprehensions
    (their own scopes)."""
    names, pending = set(), list(statements)
    while pending:
        node = pending.pop()
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            names.add(node.id)
        elif not isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp,
                                   gast.GeneratorExp)):
            pending.extend(gast.iter_child_nodes(node))
    return names
