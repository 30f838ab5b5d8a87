"""Emit, for sites whose inputs nothing declares: one TF function that picks its body by dtype.

NumPy's results depend on the input dtypes (`img / 255.0` is float64 for uint8 images, float32
for float32 ones), so the right TF code does too. `x.dtype` is static inside a `tf.function`:
a Python `if` on it runs once per trace and leaves one body in the graph. Dtypes no native body
was made for run the original through the site's own wrapper, so a rewritten program gives what
it gave before for them, never an error it did not raise.
"""
from __future__ import annotations

import ast

import gast

from . import facts as F
from .declarations import InputDtype
from .edits import edited_text
from .sites import PARAMS, bind_arguments

OFF = "# rewriter: off"
"""Marks the call to the original inside a dispatch: a later run must not take it for a site."""


class DispatchError(ValueError):
    """The function cannot hold a choice of body by input dtype."""


def dispatch_text(target, source, variants, fallback: str) -> str:
    """The TF function for `target` (a def in `source`): its header, then each variant's body
    under its check, then `fallback` (the call of the original) for every other input. One
    variant keeps its body as written, after an early return; several go into an
    `if`/`elif`/`else` chain."""
    fallback = f"{OFF}: other inputs run the original\n{{indent}}return {fallback}"
    first = _first_statement(target)
    if first.lineno == target.lineno:
        raise DispatchError("the body shares the def's line: no room to choose by dtype")
    start = source.line_starts[(target.decorator_list[0] if target.decorator_list else target).lineno - 1]
    split = source.line_starts[first.lineno - 1]
    end = source.span(target).end
    header = edited_text(source, start, split, variants[0].edits)
    variants = [v for v in variants if edited_text(source, start, split, v.edits) == header]
    if len(variants) > 1 and _string_spans_lines(target):
        variants = variants[:1]  # re-indenting would change the string
    indent = source.indent_of_line(first.lineno)
    step = indent[len(source.indent_of_line(target.lineno)):]
    bodies = [edited_text(source, split, end, v.edits) + "\n" for v in variants]
    if len(variants) == 1:
        check = _check("if", variants[0].checks, indent, negate=True)
        return f"{header}{check}{_line(fallback, indent + step)}{_gap(first)}{bodies[0]}"
    factored = _factored(target, source, variants, first, end, indent, step, fallback)
    if factored is not None:
        return header + factored
    branches = {}  # body -> the checks that take it: a body two checks share is written once
    for variant, body in zip(variants, bodies):
        branches.setdefault(body, []).append(variant.checks)
    chain = []
    for keyword, (body, checks) in zip(("if", *["elif"] * len(branches)), branches.items()):
        chain.append(_either_check(keyword, checks, indent) + _indented(body, step))
    return f"{header}{''.join(chain)}{indent}else:\n{_line(fallback, indent + step)}"


def _either_check(keyword: str, alternatives: list, indent: str) -> str:
    """`if <check>:`, or `if (<check>) or (<check>):` for a body several checks share."""
    if len(alternatives) == 1:
        return _check(keyword, alternatives[0], indent)
    clauses = [_check("", checks, "").strip()[:-1].strip() for checks in alternatives]
    return f"{indent}{keyword} {' or '.join(f'({clause})' for clause in clauses)}:\n"


def _factored(target, source, variants, first, end, indent, step, fallback):
    """The bodies as a person would write them when the variants differ in one input's dtype
    or rank only: the original for every other input first, then the statements all bodies
    share, and an `if` / `else` on that one property only around the statements that differ.
    None when the variants differ in more than one property, or a shared statement rebinds
    the input the `if` tests."""
    coordinate = _only_difference(variants)
    if coordinate is None:
        return None
    statements = target.body[target.body.index(first):]
    starts = [source.line_starts[s.lineno - 1] for s in statements] + [end]
    pieces = [[edited_text(source, a, b, v.edits) for a, b in zip(starts, starts[1:])] for v in variants]
    if any("".join(p) != edited_text(source, starts[0], end, v.edits) for p, v in zip(pieces, variants)):
        return None  # an edit spans two statements
    same = [len({p[k] for p in pieces}) == 1 for k in range(len(statements))]
    lead = next((k for k, s in enumerate(same) if not s), len(same))
    tail = next((k for k, s in enumerate(reversed(same)) if not s), len(same))
    name, what = coordinate
    lead = next((k for k in range(lead) if name in _assigned(pieces[0][k])), lead)
    middle = slice(lead, len(statements) - tail)
    merged = {n: tuple(_union(v.checks[n][i] for v in variants) for i in (0, 1)) for n in variants[0].checks}
    text = _check("if", merged, indent, negate=True) + _line(fallback, indent + step)
    text += (_gap(first) if lead else "") + "".join(pieces[0][:lead])
    # the branches cover disjoint inputs, so their order is free: the widest goes last, under
    # `else`, and each `if` names the fewest values
    branches = sorted(zip(variants, pieces), key=lambda branch: len(branch[0].checks[name][what]))
    for k, (variant, own) in enumerate(branches):
        body = _indented("".join(own[middle]).rstrip("\n") + "\n", step)
        if k == len(variants) - 1:
            text += f"{indent}else:\n{body}"
        else:
            values = variant.checks[name][what]
            single = {name: (values, None) if what == 0 else (None, values)}
            text += _check("if" if k == 0 else "elif", single, indent) + body
    shared_tail = "".join(pieces[0][middle.stop:]).rstrip("\n")
    return text + (shared_tail + "\n" if shared_tail else "")


def _gap(first) -> str:
    """A blank line between the check and a nested def that follows it, as black writes one."""
    return "\n" if isinstance(first, gast.FunctionDef) else ""


def _line(text: str, indent: str) -> str:
    """Lines of `text` at `indent` (a `{indent}` in it marks where a later line starts)."""
    return indent + text.replace("{indent}", indent) + "\n"


def _only_difference(variants):
    """(input name, 0 for dtype or 1 for rank): the one property the variants' checks differ
    in; None when they differ in more than one (their union is then no single check)."""
    differing = {(name, what) for name in variants[0].checks for what in (0, 1)
                 if len({_key(v.checks[name][what]) for v in variants}) > 1}
    if len(differing) != 1:
        return None
    name, what = next(iter(differing))
    if any(v.checks[name][what] is None for v in variants):
        return None
    return name, what


def _key(values):
    return None if values is None else tuple(sorted(map(str, values)))


def _union(values):
    values = list(values)
    if any(v is None for v in values):
        return None
    return tuple(dict.fromkeys(x for v in values for x in v))


def _assigned(text: str) -> set:
    """Names a statement's text assigns (anything unreadable counts as assigning all)."""
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(text))
    except SyntaxError:
        return {"*"}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    return names | {"*"} if any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in ast.walk(tree)) else names


def fallback_call(site, module, resolver, input_names) -> str:
    """The site's own wrapper around the original function, on the copy's parameters."""
    source = module.source
    args = bind_arguments(site.call, PARAMS[site.kind])
    func = args["func"]
    scope = resolver.enclosing(site.target, (gast.FunctionDef,))
    for name in (n for n in gast.walk(func) if isinstance(n, gast.Name)):
        if name.id == "self" and site.method_of is not None:
            continue
        if any(resolver.enclosing(d, (gast.FunctionDef, gast.Lambda)) not in (None, scope)
               for d in resolver.definitions(name)):
            raise DispatchError(f"the original is reached through `{name.id}`, a local name of the caller, "
                                "so other dtypes could not run it")
    tout = args["Tout"]
    one_of_list = site.tout_is_list and len(site.tout) == 1  # the copy returns the one tensor, not a list
    literal = isinstance(tout, (gast.List, gast.Tuple))
    tout_text = source.segment(tout.elts[0] if one_of_list and literal else tout)
    if site.tout_follows_inputs:  # `[dtype] * 2` with `dtype = x.dtype` of the caller: the copy's own inputs
        items = [f"{input_names[d.index]}.dtype" if isinstance(d, InputDtype) else F.tf_name(d) for d in site.tout]
        tout_text = f"[{', '.join(items)}]" if site.tout_is_list and not one_of_list else items[0]
    elif one_of_list and not literal:
        # the dtype itself: a list Tout would give a list in a graph
        tout_text = f"{tout_text}[0]" if isinstance(tout, (gast.Name, gast.Attribute)) else f"({tout_text})[0]"
    extra = f", stateful={source.segment(args['stateful'])}" if "stateful" in args else ""
    return f"{source.segment(site.call.func)}({source.segment(func)}, [{', '.join(input_names)}], {tout_text}{extra})"


def _first_statement(function):
    """The first statement after the docstring (the checks go before it)."""
    body = function.body
    if len(body) > 1 and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1]
    return body[0]


def _string_spans_lines(function) -> bool:
    return any(isinstance(n, (gast.Constant, gast.JoinedStr)) and n.lineno != n.end_lineno
               for statement in function.body[function.body.index(_first_statement(function)):]
               for n in gast.walk(statement) if hasattr(n, "lineno"))


def _indented(body: str, step: str) -> str:
    return "".join(step + line if line.strip() else line for line in body.splitlines(keepends=True))


def _check(keyword: str, checks: dict, indent: str, negate=False) -> str:
    """`if x.dtype in (tf.uint8, tf.int16) and x.shape.rank == 2:` on one line (the render
    stage lays it out at the file's line length)."""
    parts = []
    for name, (dtypes, ranks) in checks.items():
        if dtypes is not None:
            parts.append(_membership(f"{name}.dtype", [f"tf.{d.name}" for d in dtypes], negate))
        if ranks is not None:
            parts.append(_membership(f"{name}.shape.rank", [str(r) for r in ranks], negate))
    joiner = " or " if negate else " and "
    return f"{indent}{keyword} {joiner.join(parts)}:\n"


def _membership(subject: str, values: list, negate: bool) -> str:
    """`subject == v` or `subject in (v, w)`, negated when asked."""
    if len(values) == 1:
        return f"{subject} {'!=' if negate else '=='} {values[0]}"
    return f"{subject} {'not in' if negate else 'in'} ({', '.join(values)})"
