"""Stage 5, per site — emit: a converted wrapped-function site's bodies as file edits.

Convert hands over the lowered bodies (`SiteLowering`); this writes them: the function rewritten
in place or as a `<name>_tf` copy (`emit.function_edits`), a choice of body by input dtype
and rank when nothing declares them (`dispatch.py`), or, for a NumPy function wrapped directly,
its expression in place of the call. A dispatch that cannot be written leaves the site (RW109).
The versions with fewer bodies go along, for --verify to fall back on.
"""
from __future__ import annotations

from dataclasses import dataclass

import gast

from .convert import Conversion, graph_branches, site_notes
from .declarations import bind_arguments
from .dispatch import DispatchError, dispatch_text, fallback_call
from .edits import Edit, apply_edits, fresh_name, names_in, substitute
from .emit import function_edits, input_texts, within, wrap_outputs
from .kron_products import kron_product_edits
from .sites import PARAMS


def emit_site(conversion: Conversion, module, resolver) -> Conversion:
    """The conversion with its edits written, or left (RW109) when no dispatch fits."""
    lowering = conversion.lowering
    if conversion.status != "converted" or lowering is None:
        return conversion
    site = conversion.site

    def left(reason, code, node=None):
        node = node if node is not None else site.call
        conversion.status, conversion.reason, conversion.code = "left", reason, code
        conversion.patterns, conversion.assumed, conversion.notes, conversion.inputs = (), "", [], []
        conversion.line = getattr(node, "lineno", site.line)
        conversion.col = getattr(node, "col_offset", site.col - 1) + 1
        return conversion

    if lowering.wrapped is not None:
        emitted = _emit_inline(site, module, resolver, lowering, left)
    else:
        emitted = _emit(site, module, resolver, lowering, left)
    if isinstance(emitted, Conversion):
        return emitted
    emitted, variants = emitted
    unread = _unread_tout_binding(site, module, resolver)
    for version in emitted if unread is not None else ():
        version.edits.append(unread)
    conversion.edits, conversion.function_text, conversion.variants = emitted[0].astuple()
    conversion.fewer_bodies = emitted[1:]
    conversion.patterns = tuple(sorted({p for v in variants for p in v.lowered.patterns}))
    conversion.notes = site_notes(site, variants)
    return conversion


@dataclass
class Emitted:
    """A conversion's file edits, TF function text and the bodies' probe facts."""

    edits: list
    function_text: str
    variants: list

    def astuple(self) -> tuple:
        return self.edits, self.function_text, self.variants


def _emit(site, module, resolver, lowering, left):
    """Emitted versions, most bodies first; or the conversion, left."""
    variants, open_inputs, shared = lowering.variants, lowering.open_inputs, lowering.shared
    first = variants[0]
    if any(v.lowered.returns_under_graph_branch for v in variants):
        variants = variants[:1]  # one body stays at the top of the function (other inputs run the original)
    branches = graph_branches(variants)
    if branches and isinstance(site.target, gast.Lambda):
        return left(f"the lambda's {branches[0].split(': ', 1)[1]}: only AutoGraph compiles it, and a lambda "
                    "inlined into its caller cannot be converted on its own", "RW111")
    if open_inputs and (isinstance(site.target, gast.Lambda) or _one_line(site.target)):
        return left("the rewrite depends on the input dtypes and a lambda has no room to choose by dtype: "
                    "declare them with `# rewriter: args=...`", "RW109")
    if open_inputs:
        outside = {s: t for s, t in first.edits.items() if not within(module.source, site.target, s)}
        variants = [v for v in variants  # each variant's copies of same-file helpers must be the same
                    if {s: t for s, t in v.edits.items() if not within(module.source, site.target, s)} == outside]
        try:
            fallback = fallback_call(site, module, resolver, lowering.parameters)
            emitted = [Emitted(*function_edits(site, module, resolver, first.edits,
                                               dispatch_text(site.target, module.source, variants[:k], fallback),
                                               shared, bool(graph_branches(variants[:k]))),
                               [v.probes for v in variants[:k]])
                       for k in range(len(variants), 0, -1)]
        except DispatchError as exc:
            return left(f"{exc}: declare the inputs with `# rewriter: args=...`", "RW109")
    else:
        emitted = [Emitted(*function_edits(site, module, resolver, first.edits, None, shared, bool(branches)),
                           [[first.facts]])]
    return emitted, variants


def _emit_inline(site, module, resolver, lowering, left):
    """Emitted versions, most bodies first; or the conversion, left. A NumPy function wrapped directly: its TF
    expression replaces the call when nothing depends on the input dtypes (a kron only multiplied by: the product
    replaces the multiplication, see `kron_products.py`); otherwise a `<name>_tf` function that chooses by dtype is
    added before the statement holding the site, and the call goes to it."""
    wrapped, variants, open_inputs = lowering.wrapped, lowering.variants, lowering.open_inputs
    inputs = input_texts(module.source, site)
    parameters = [a.id for a in wrapped.tree.body[1].args.args]
    first = variants[0]
    if open_inputs:
        name = fresh_name(f"{wrapped.tree.body[1].name}_tf", names_in(module.tree))
        statement = _top_level_statement(site.call, resolver)
        first_line = (statement.decorator_list[0] if getattr(statement, "decorator_list", None) else statement).lineno
        where = module.source.line_starts[first_line - 1]
        call_text = wrap_outputs(site, f"{name}({', '.join(inputs)})")
        call = module.source.span(site.call)
        emitted = []
        try:
            fallback = fallback_call(site, module, resolver, parameters)
            for k in range(len(variants), 0, -1):
                text = dispatch_text(wrapped.tree.body[1], wrapped.source, variants[:k], fallback)
                text = text.replace(f"def {wrapped.tree.body[1].name}(", f"def {name}(", 1)
                edits = [Edit(where, where, text + "\n\n"), Edit(call.start, call.end, call_text)]
                emitted.append(Emitted(edits, text, [v.probes for v in variants[:k]]))
        except DispatchError as exc:
            return left(f"{exc}: declare the inputs with `# rewriter: args=...`", "RW109")
        return emitted, variants
    product = kron_product_edits(site, module, resolver, first.facts)
    if product is not None:
        return [Emitted(product, product[-1].text, [])], variants[:1]
    expression = wrapped.tree.body[1].body[0].value
    span = wrapped.source.span(expression)
    local = [Edit(s.start - span.start, s.end - span.start, t) for s, t in first.edits.items()]
    body = apply_edits(wrapped.source.text[span.start:span.end], local)
    text = wrap_outputs(site, substitute(body, dict(zip(parameters, inputs))))
    call = module.source.span(site.call)
    return [Emitted([Edit(call.start, call.end, text)], text, [])], variants[:1]


def _top_level_statement(node, resolver):
    while resolver.parents.get(node) is not None and not isinstance(resolver.parents.get(node), gast.Module):
        node = resolver.parents[node]
    return node


def _one_line(function) -> bool:
    """`def f(x): return ...` on one line leaves no line for the dtype check."""
    body = [s for s in function.body if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
    return bool(body) and body[0].lineno == function.lineno


def _unread_tout_binding(site, module, resolver):
    """An edit deleting the line `dtype = x.dtype` when the site's `Tout` was its only reader:
    the rewrite takes the dtype from its own inputs, and a reviewer would ask for the line to go."""
    if not site.tout_follows_inputs:
        return None
    tout = bind_arguments(site.call, PARAMS[site.kind]).get("Tout")
    inside = set(gast.walk(tout))
    for name in (n for n in inside if isinstance(n, gast.Name)):
        definitions = resolver.definitions(name)
        statement = resolver.parents.get(definitions[0]) if len(definitions) == 1 else None
        if not (isinstance(statement, gast.Assign) and statement.targets == definitions
                and isinstance(statement.value, gast.Attribute) and statement.value.attr == "dtype"
                and isinstance(statement.value.value, gast.Name)):
            continue
        block = getattr(resolver.parents.get(statement), "body", [])
        line = module.source.lines[statement.lineno - 1]
        if all(user in inside for user in resolver.users(definitions[0])) and len(block) > 1 \
                and line.strip() == module.source.segment(statement):
            start = module.source.line_starts[statement.lineno - 1]
            return Edit(start, start + len(line), "")
    return None
