"""Emit, for sites whose inputs nothing declares: one TF function that picks its body by dtype.

NumPy's results depend on the input dtypes (`img / 255.0` is float64 for uint8 images, float32
for float32 ones), so the right TF code does too. `x.dtype` is static inside a `tf.function`:
a Python `if` on it runs once per trace and leaves one body in the graph. Dtypes no native body
was made for run the original through the site's own wrapper, so a rewritten program gives what
it gave before for them, never an error it did not raise.
"""
from __future__ import annotations

import gast

from .edits import edited_text
from .sites import PARAMS, bind_arguments

OFF = "# rewriter: off"
"""Marks the call to the original inside a dispatch: a later run must not take it for a site."""

LINE_LENGTH = 88


class DispatchError(ValueError):
    """The function cannot hold a choice of body by input dtype."""


def dispatch_text(target, source, variants, fallback: str) -> str:
    """The TF function for `target` (a def in `source`): its header, then each variant's body
    under its check, then `fallback` (the call of the original) for every other input. One
    variant keeps its body as written, after an early return; several go into an
    `if`/`elif`/`else` chain."""
    fallback = f"return {fallback}  {OFF}"
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
        check = _check("if", variants[0].checks, indent, step, negate=True)
        return f"{header}{check}{indent}{step}{fallback}\n{bodies[0]}"
    chain = []
    for keyword, variant, body in zip(("if", *["elif"] * len(variants)), variants, bodies):
        chain.append(_check(keyword, variant.checks, indent, step) + _indented(body, step))
    return f"{header}{''.join(chain)}{indent}else:\n{indent}{step}{fallback}\n"


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
    tout_text = source.segment(tout.elts[0] if site.tout_is_list and len(site.tout) == 1 else tout)
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


def _check(keyword: str, checks: dict, indent: str, step: str, negate=False) -> str:
    """`if x.dtype in (tf.uint8, tf.int16) and x.shape.rank == 2:`, wrapped as black would
    when too long."""
    parts = []
    for name, (dtypes, ranks) in checks.items():
        if dtypes is not None:
            parts.append(_membership(f"{name}.dtype", [f"tf.{d.name}" for d in dtypes], negate))
        if ranks is not None:
            parts.append(_membership(f"{name}.shape.rank", [str(r) for r in ranks], negate))
    joiner = " or " if negate else " and "
    line = f"{indent}{keyword} {joiner.join(a + b + c for a, b, c in parts)}:\n"
    if len(line) <= LINE_LENGTH + 1:
        return line
    inner = indent + step
    if len(parts) == 1 and parts[0][2]:
        head, items, tail = parts[0]
        return f"{indent}{keyword} {head}\n{_packed(items.split(', '), inner)}{indent}{tail}:\n"
    lines = [f"{inner}{'' if i == 0 else joiner.strip() + ' '}{a}{b}{c}\n" for i, (a, b, c) in enumerate(parts)]
    return f"{indent}{keyword} (\n{''.join(lines)}{indent}):\n"


def _membership(subject: str, values: list, negate: bool) -> tuple:
    """(head, items, tail) of `subject == v` or `subject in (v, w)`, negated when asked."""
    if len(values) == 1:
        return f"{subject} {'!=' if negate else '=='} ", values[0], ""
    return f"{subject} {'not in' if negate else 'in'} (", ", ".join(values), ")"


def _packed(items, indent: str) -> str:
    """Items with trailing commas, as many to a line as fit."""
    lines, line = [], indent
    for item in items:
        if line != indent and len(line) + len(item) + 1 > LINE_LENGTH:
            lines.append(line.rstrip() + "\n")
            line = indent
        line += item + ", "
    lines.append(line.rstrip() + "\n")
    return "".join(lines)
