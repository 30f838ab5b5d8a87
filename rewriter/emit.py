"""Stage 5 — emit: turn a converted site into text edits on the file, and apply them.

Only changed spans are replaced; everything else stays byte-identical. The wrapped function is
rewritten in place when the site is its only user; otherwise a TF copy named `<name>_tf` is
added right after it and the original stays for its other users. `import tensorflow as tf` is
added once when the file has no TensorFlow import (as `tf2` when `tf` names something else, such
as `tensorflow.compat.v1`); an existing alias is used instead.
"""
from __future__ import annotations

import re

import gast

from . import helper_source
from .edits import Edit, edited_text, fresh_name, names_in, substitute
from .lowered import AUTOGRAPH_DECORATOR
from .parse import ParsedModule, Span


def function_edits(site, module: ParsedModule, resolver, body_edits: dict, copy_text=None, shared=False,
                   graph_branches=False):
    """File edits for one converted site, and the TF function's text.

    `copy_text`, when given, is the TF function to add as a copy (a dispatch by input dtype,
    which still calls the original). A function other modules may use (`shared`) is copied too.
    `graph_branches`: the body branches on tensors, so AutoGraph converts the function."""
    source = module.source
    target = site.target
    outside = {s: t for s, t in body_edits.items() if not within(source, target, s)}
    edits = [Edit(s.start, s.end, t) for s, t in outside.items()]  # copies of helpers
    if isinstance(target, gast.Lambda):
        body = _apply_relative(source, target.body, body_edits)
        call = _inline_lambda(target, body, input_texts(source, site))
        edits.append(Edit(*_span(source.span(site.call)), wrap_outputs(site, call)))
        return edits, call
    in_place = resolver.uses(target) <= 1 and copy_text is None and not shared
    callee_name = target.name if in_place else _fresh_name(module, f"{target.name}_tf")
    # the target has no decorators (sites.py leaves decorated ones): its text starts at the def
    decorator = source.indent_of_line(target.lineno) + AUTOGRAPH_DECORATOR + "\n" if graph_branches else ""
    if in_place:
        edits.extend(Edit(s.start, s.end, t) for s, t in body_edits.items() if s not in outside)
        function_text = decorator + _apply_relative(source, target, body_edits, whole_lines=True)
        if decorator:
            line = source.line_starts[target.lineno - 1]
            edits.append(Edit(line, line, decorator))
    else:
        function_text = copy_text or _apply_relative(source, target, body_edits, whole_lines=True)
        function_text = re.sub(rf"(\bdef\s+){re.escape(target.name)}\b", rf"\g<1>{callee_name}", function_text, count=1)
        function_text = decorator + function_text
        end = source.line_starts[target.end_lineno]
        separator = "\n\n" if not site.method_of and resolver.enclosing(target, (gast.FunctionDef,)) is None else "\n"
        edits.append(Edit(end, end, separator + function_text))
    callee = f"self.{callee_name}" if site.method_of is not None else callee_name
    arguments = [source.segment(a) for a in site.bound_args]
    arguments += input_texts(source, site)
    arguments += [f"{k}={source.segment(v)}" for k, v in site.bound_kwargs.items()]
    call = f"{callee}({', '.join(arguments)})"
    edits.append(Edit(*_span(source.span(site.call)), wrap_outputs(site, call)))
    return edits, function_text


def within(source, node, span) -> bool:
    own = source.span(node)
    return own.start <= span.start and span.end <= own.end


def input_texts(source, site) -> list:
    """The site's inputs as the rewrite's arguments: each converted to a tensor unless it
    provably is one already (`Site.tensor_inputs`). The wrapper converted its inputs, and NumPy
    arrays passed straight to the rewrite would keep NumPy's Python-level behaviour (slicing
    an ndarray gives an ndarray)."""
    texts = [source.segment(node) for node in site.inputs]
    return [text if tensor else f"tf.convert_to_tensor({text})" for text, tensor in zip(texts, site.tensor_inputs)]


def wrap_outputs(site, call: str) -> str:
    """What the wrapper returned for a Tout list of one dtype: py_function a list of one;
    numpy_function and py_func the tensor when run eagerly and a list of one in a graph (a
    call inside a tf.function or a Dataset.map function only ever runs in a graph)."""
    if not (site.tout_is_list and len(site.tout) == 1):
        return call
    if site.kind == "py_function" or site.traced:
        return f"[{call}]"
    return helper_source.call("numpy_function_output", call)


def _span(span: Span):
    return span.start, span.end


def _apply_relative(source, node, edits: dict, whole_lines=False) -> str:
    """The node's text (from the start of its first line when `whole_lines`) with edits applied."""
    span = source.span(node)
    start = source.line_starts[node.lineno - 1] if whole_lines else span.start
    if whole_lines and getattr(node, "decorator_list", None):
        start = source.line_starts[node.decorator_list[0].lineno - 1]
    text = edited_text(source, start, span.end, edits)
    return text + "\n" if whole_lines else text


def _inline_lambda(target, body: str, inputs: list) -> str:
    """`lambda x: tf.exp(x)` applied to `t` gives `tf.exp(t)`."""
    names = [a.id for a in target.args.args]
    if len(names) != len(inputs):
        raise ValueError("lambda arity differs from the inputs")
    return substitute(body, dict(zip(names, inputs)))


def _fresh_name(module: ParsedModule, wanted: str) -> str:
    return fresh_name(wanted, names_in(module.tree))


# -- the TensorFlow import -------------------------------------------------------------------

def tensorflow_alias(module: ParsedModule) -> str | None:
    """The module-level name TensorFlow is imported as, if any (`tf` preferred)."""
    aliases = []
    for node in module.tree.body:
        if isinstance(node, gast.Import):
            for alias in node.names:
                if alias.name == "tensorflow":
                    aliases.append(alias.asname or "tensorflow")
    if "tf" in aliases:
        return "tf"
    return aliases[0] if aliases else None


def alias_to_import(module: ParsedModule) -> str:
    """The name to import TensorFlow as, in a file that has no `import tensorflow`: `tf`, unless
    the file binds `tf` to something else. TF1 code imports `tensorflow.compat.v1 as tf`, whose
    ops differ from TF2's (`where` does not broadcast), so the rewrite's TF2 code gets its own name."""
    taken = names_in(module.tree)
    for node in gast.walk(module.tree):
        if isinstance(node, (gast.Import, gast.ImportFrom)):
            taken |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
    return "tf" if "tf" not in taken else fresh_name("tf2", taken)


def import_edit(module: ParsedModule, alias: str) -> Edit:
    """An edit adding `import tensorflow as <alias>` after the module's leading imports."""
    body = module.tree.body
    position = 0
    for node in body:
        is_docstring = node is body[0] and isinstance(node, gast.Expr) and isinstance(node.value, gast.Constant) \
            and isinstance(node.value.value, str)
        if is_docstring or isinstance(node, (gast.Import, gast.ImportFrom)):
            position = module.source.line_starts[node.end_lineno]
        else:
            break
    return Edit(position, position, f"import tensorflow as {alias}\n")


def use_alias(text: str, alias: str) -> str:
    """Generated code says `tf.`; a file that imports TensorFlow under another name keeps it."""
    return text if alias == "tf" else re.sub(r"(?<![\w.])tf\.", f"{alias}.", text)
