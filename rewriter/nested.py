"""Defs inside the lowered function (`def energy(row): return np.sum(row ** 2)` in a
numpy_function body), and the locals of that function that nested code reads.

A nested def made of one `return` that np.apply_along_axis or np.vectorize runs is lifted by
the vectorizer as a lambda is, its body written where it is called (`check_inlined`: only
where each name it reads means the same). A nested def called directly (`y = scale(x)`, per
row in a comprehension np.array stacks), or of several statements that those NumPy calls run,
stays a def: its body lowered for the facts of the arguments at the call and of the enclosing
function's locals there. Python reads a closure when the def runs, not when it is defined, so
those are the facts that hold; a def whose calls need two different rewrites is refused. A
def no call keeps is deleted: everything that used it was inlined. What a call cannot show
(defaults, *args, decorators, recursion, `nonlocal`, a def returned or stored) is refused.
"""
from __future__ import annotations

import gast

from .facts import Fact, Kind
from .handlers import registers
from .lowered import Lowered, Refusal
from .parse import Span
from .walker import FunctionLowering

_FUNCTION_ARGUMENT = {"numpy.apply_along_axis": "func1d", "numpy.vectorize": "pyfunc"}
"""NumPy calls that take a nested def as a value: the vectorizer inlines it there."""

_SCOPES = (gast.FunctionDef, gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)


@registers("functiondef")
def define(lw, node):
    """A def statement in the lowered function: checked, and deleted until a call keeps it."""
    name = node.name
    if lw.resolver.parents.get(node) is not lw.scope.fn or lw.loop_depth:
        raise Refusal(node, f"nested def `{name}` inside a loop, branch or block is not rewritten")
    if node.decorator_list:
        raise Refusal(node, f"nested def `{name}` has decorators: not rewritten")
    args = node.args
    if args.defaults or args.kw_defaults or args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
        raise Refusal(node, f"nested def `{name}` has default values, *args, **kwargs or keyword-only "
                            "parameters: not rewritten")
    for inner in gast.walk(node):
        _check_inside(lw, node, inner)
    for use in lw.resolver.users(node):
        if lw.resolver.function_def(use) is not node:
            raise Refusal(use, f"`{name}` is bound to more than the nested def: not rewritten")
        if not _called_or_inlined(lw, use):
            raise Refusal(use, f"nested def `{name}` is passed, returned or stored as a value: not rewritten")
    if not lw.scope.nested_calls.get(node):
        lw.scope.out.edits[_lines(lw, node)] = ""


def _check_inside(lw, node, inner):
    name = node.name
    if isinstance(inner, (gast.Nonlocal, gast.Global)):
        raise Refusal(inner, f"nested def `{name}` uses `{type(inner).__name__.lower()}`: not rewritten")
    if isinstance(inner, (gast.Yield, gast.YieldFrom, gast.Await)):
        raise Refusal(inner, f"nested def `{name}` is a generator: not rewritten")
    if inner is not node and isinstance(inner, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
        raise Refusal(inner, f"a def or class inside nested def `{name}` is not rewritten")
    if isinstance(inner, gast.Name) and isinstance(inner.ctx, gast.Load):
        if inner.id == name:
            raise Refusal(inner, f"nested def `{name}` refers to itself: recursion is not rewritten")
        called = lw.resolver.function_def(inner)
        if isinstance(called, gast.FunctionDef) and owner(lw, called) is lw.scope.fn:
            raise Refusal(inner, f"nested def `{name}` uses nested def `{called.name}`: not rewritten")


def _called_or_inlined(lw, use) -> bool:
    """Whether a use of a nested def's name calls it, or hands it to a NumPy call that inlines it."""
    parent = lw.resolver.parents.get(use)
    if isinstance(parent, gast.Call) and parent.func is use:
        return True
    keyword = parent.arg if isinstance(parent, gast.keyword) else None
    call = lw.resolver.parents.get(parent) if keyword else parent
    if not isinstance(call, gast.Call):
        return False
    qualname = lw.resolver.qualname(call.func)
    if qualname not in _FUNCTION_ARGUMENT or not (keyword == _FUNCTION_ARGUMENT[qualname]
                                                  or call.args[:1] == [use]):
        return False
    if qualname == "numpy.vectorize":  # np.vectorize(f)(x): called right away
        outer = lw.resolver.parents.get(call)
        return isinstance(outer, gast.Call) and outer.func is call
    return True


def _lines(lw, node) -> Span:
    """The def's lines and the blank lines after it."""
    starts = lw.source.line_starts
    start, last = starts[node.lineno - 1], node.end_lineno
    if lw.source.text[start:starts[last]].strip() != lw.source.segment(node).strip():
        raise Refusal(node, f"nested def `{node.name}` shares its lines with other code: not rewritten")
    while last + 1 < len(starts) and not lw.source.text[starts[last]:starts[last + 1]].strip():
        last += 1
    return Span(start, starts[last])


def owner(lw, function):
    """The def or lambda a def or lambda is written in (None at module level)."""
    return lw.resolver.enclosing(function, (gast.FunctionDef, gast.Lambda))


def closure_facts(lw, function) -> dict:
    """Facts, where `function` runs, of the enclosing function's locals it may read. Empty for
    a function not written in the lowered one (its free names are globals there)."""
    outer = lw.scope.fn
    if owner(lw, function) is not outer:
        return {}
    own = bound_names(function)
    outer_locals = bound_names(outer)
    # The lowering's facts at a call inside a comprehension or lambda hold their variables too:
    # a name both they and the function bind is refused rather than read from the wrong one.
    shadowed = set()
    for node in gast.walk(outer):
        if isinstance(node, (gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)) \
                and node is not function:
            shadowed |= bound_names(node)
    read = {n.id for n in gast.walk(function) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    for name in sorted(read & shadowed & outer_locals - own):
        raise Refusal(function, f"`{name}` names both a local of the function and a variable of a "
                                "comprehension or lambda: which one nested code reads is not followed")
    return {name: (fact.with_(fresh=False) if fact is not None and fact.kind is Kind.ARRAY else fact)
            for name, fact in lw.env.items() if name in outer_locals and name not in own}


def check_inlined(lw, call, function):
    """The vectorizer writes a lambda's or def's body where `call` runs it: each name the body
    reads must mean the same there. A scope around the call that the function is not written
    in (the calling function for a module-level def, a comprehension) may bind it otherwise."""
    reads = {n.id for n in gast.walk(function) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    reads -= bound_names(function)
    around = set()
    node = lw.resolver.parents.get(function)
    while node is not None:
        around.add(node)
        node = lw.resolver.parents.get(node)
    node = lw.resolver.parents.get(call)
    while node is not None and node not in around:
        if isinstance(node, _SCOPES):
            for name in sorted(reads & bound_names(node)):
                raise Refusal(call, f"`{name}` in the function passed here means something else where it is called "
                                    "(a local of the same name): its body cannot be written in place")
        node = lw.resolver.parents.get(node)


def bound_names(function) -> set:
    """Names a def, lambda or comprehension binds in its own scope: parameters, assignment
    and loop targets, nested defs (not what nested scopes bind)."""
    names = set()
    if isinstance(function, (gast.FunctionDef, gast.Lambda)):
        names = {a.id for a in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs,
                                function.args.vararg, function.args.kwarg] if a is not None}
        body = function.body if isinstance(function, gast.FunctionDef) else [function.body]
    else:
        names = {n.id for g in function.generators for n in gast.walk(g.target) if isinstance(n, gast.Name)}
        body = []
    pending = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, gast.FunctionDef):
            names.add(node.name)
            continue
        if isinstance(node, _SCOPES):
            continue
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            names.add(node.id)
        pending.extend(gast.iter_child_nodes(node))
    return names


def lower_call(lw, node, function) -> Lowered:
    """A call of a nested def: the call as written, the def's body lowered for its facts."""
    parts, params = bound_arguments(lw, node, function, f"nested def `{function.name}`")
    if len(params) != len(function.args.args):
        raise Refusal(node, f"nested def `{function.name}` is called with too few arguments")
    return lw._splice(node, parts, _lower_def(lw, node, function, params))


def lower_applied(lw, node, function, element: Fact) -> Lowered:
    """A nested def of several statements that np.apply_along_axis or np.vectorize (`node`)
    runs per row or element: `f(row)`, the def lowered for `element`, on its parameter (where
    the vectorizer puts the rows)."""
    param = function.args.args[0].id
    return Lowered(f"{function.name}({param})", _lower_def(lw, node, function, {param: element}), True)


def _lower_def(lw, call, function, params: dict) -> Fact:
    """The fact of what the def returns for these parameters; the def is kept, rewritten for
    them (the same rewrite as for its other calls, or a refusal)."""
    name = function.name
    if lw is not lw.scope and not _straight_line(function):
        # lifted to all rows, or run per row by tf.vectorized_map, which traces without
        # AutoGraph: a Python `if` or loop on a tensor there would raise
        raise Refusal(call, f"nested def `{name}` has statements other than assignments and one `return`: "
                            "it is not run per row or per element")
    env = {**closure_facts(lw, function), **params}
    lowered = FunctionLowering(function, lw.source, lw.resolver, lw.registry, env, context=lw.context).run()
    if lowered.refusals:
        raise lowered.refusals[0]
    facts = {value.fact for _, value in lowered.returns}
    if len(facts) != 1:
        raise Refusal(call, f"nested def `{name}` returns " + ("no value" if not facts else "values of different kinds"))
    _keep(lw, function, call, lowered.edits)
    lw.out.patterns.update(lowered.patterns)
    lw.out.notes.extend(note for note in lowered.notes if note not in lw.out.notes)
    lw.scope.out.graph_branches.extend(b for b in lowered.graph_branches if b not in lw.scope.out.graph_branches)
    return facts.pop()


def bound_arguments(lw, node, function, what: str):
    """A call of a def of the file (`what` names it in refusals), bound to its parameters:
    (each argument node with its lowering, in source order; parameter name -> fact). The
    caller's arrays are not fresh there: an in-place update in the def would be lost to it."""
    params = [a.id for a in function.args.args]  # calls.lower_call refused *args and **kwargs
    if len(node.args) > len(params):
        raise Refusal(node, f"{what} is called with too many arguments", "RW202")
    bound = dict(zip(params, node.args))
    for keyword in node.keywords:
        if keyword.arg not in params or keyword.arg in bound:
            raise Refusal(node, f"{what} has no parameter `{keyword.arg}` left to bind", "RW202")
        bound[keyword.arg] = keyword.value
    parts = [(argument, lw.expr(argument)) for argument in [*node.args, *(k.value for k in node.keywords)]]
    facts = {id(argument): value.fact for argument, value in parts}
    env = {}
    for param, argument in bound.items():
        fact = facts[id(argument)]
        env[param] = fact.with_(fresh=False) if fact.kind is Kind.ARRAY else fact
    return parts, env


def _straight_line(function) -> bool:
    """Assignments then one `return` (a docstring allowed): a body that lifts to all rows as its
    expressions do."""
    body = [s for s in function.body if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
    return bool(body) and isinstance(body[-1], gast.Return) and all(
        isinstance(s, (gast.Assign, gast.AnnAssign)) for s in body[:-1])


def _keep(lw, function, call, edits: dict):
    """Keep the def, rewritten for this call: the same rewrite as for its other calls, or none."""
    calls = lw.scope.nested_calls.setdefault(function, {})
    for span in calls.get(call, {}):  # a call lowered again (a loop, a second try at lifting)
        lw.scope.out.edits.pop(span, None)  # replaces its own rewrite
    calls[call] = edits
    if any(other != edits for other in calls.values()):
        raise Refusal(call, f"nested def `{function.name}` is called with arguments of different dtypes "
                            "or ranks: one def cannot hold both rewrites")
    lw.scope.out.edits.pop(_lines(lw, function), None)
    lw.scope.out.edits.update(edits)
