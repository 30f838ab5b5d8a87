"""The table through which the walker reaches the lowerings that live in other modules.

`walker.FunctionLowering` walks a function: statements, names, operators, plain loops. Calls,
subscripts, in-place updates and the loop forms the vectorizer rewrites live in their own
modules, and those modules call back into the walker to lower their parts. So that the walker
does not import them in turn (a circle), each registers its entry point here when it is
imported, and the walker looks it up by kind. `rewriter.lower` imports them all: a
FunctionLowering taken from there finds every entry.
"""
from __future__ import annotations

LOOP_FORMS = ("append", "masked_write", "accumulate", "pairwise", "fill", "recurrence", "scatter", "cell_writes")
"""The `for` loops rewritten as a whole, tried in this order. Each returns False when the loop
is not its form; the walker then lowers the loop statement by statement."""

KINDS = ("call", "subscript", "setitem", "functiondef", *LOOP_FORMS)
"""call: (lowering, Call node) -> Lowered; subscript: (lowering, Subscript node) -> Lowered;
functiondef: (lowering, FunctionDef node) -> None, for a def inside the lowered function;
setitem: (lowering, statement, target, value, op) -> the replacing statement's text;
a loop form: (lowering, For node) -> bool (whether it rewrote the loop)."""

_TABLE: dict = {}


def registers(kind: str):
    """Decorator: the function lowers `kind` (one of KINDS)."""
    if kind not in KINDS:
        raise ValueError(f"unknown lowering kind {kind!r}; the kinds are {', '.join(KINDS)}")

    def register(function):
        previous = _TABLE.get(kind)
        if previous is not None and _name(previous) != _name(function):
            raise ValueError(f"{kind!r} is lowered by {_name(previous)} already, not {_name(function)}")
        _TABLE[kind] = function
        return function

    return register


def lowering(kind: str):
    """The function registered for `kind`."""
    try:
        return _TABLE[kind]
    except KeyError:
        raise LookupError(f"no lowering is registered for {kind!r}: import rewriter.lower, "
                          "which imports every lowering module") from None


def _name(function) -> str:
    return f"{function.__module__}.{function.__qualname__}"
