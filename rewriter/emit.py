"""Stage 5 — emit: turn a converted site into text edits on the file, and apply them.

Only changed spans are replaced; everything else stays byte-identical. The wrapped function is
rewritten in place when the site is its only user; otherwise a TF copy named `<name>_tf` is
added right after it and the original stays for its other users. `import tensorflow as tf` is
added once when the file has no TensorFlow import; an existing alias is used instead.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import gast

from .parse import ParsedModule, Span
from .pattern import parenthesize


@dataclass(frozen=True, order=True)
class Edit:
    start: int
    end: int
    text: str


def apply_edits(text: str, edits) -> str:
    """Apply non-overlapping edits (overlaps are a bug upstream and raise)."""
    out = text
    last_start = len(text) + 1
    for edit in sorted(set(edits), key=lambda e: (e.start, e.end), reverse=True):
        if edit.end > last_start:
            raise ValueError("overlapping edits")
        out = out[: edit.start] + edit.text + out[edit.end:]
        last_start = edit.start
    return out


def function_edits(site, module: ParsedModule, resolver, body_edits: dict, copy_text=None, shared=False):
    """File edits for one converted site, and the TF function's text.

    `copy_text`, when given, is the TF function to add as a copy (a dispatch by input dtype,
    which still calls the original). A function other modules may use (`shared`) is copied too."""
    source = module.source
    target = site.target
    edits = []
    if isinstance(target, gast.Lambda):
        body = _apply_relative(source, target.body, body_edits)
        call = _inline_lambda(target, body, [as_tensor(source, resolver, e) for e in site.inputs])
        edits.append(Edit(*_span(source.span(site.call)), _wrap_outputs(site, call, None)))
        return edits, call
    in_place = resolver.uses(target) <= 1 and copy_text is None and not shared
    callee_name = target.name if in_place else _fresh_name(module, f"{target.name}_tf")
    outside = {s: t for s, t in body_edits.items() if not within(source, target, s)}
    edits.extend(Edit(s.start, s.end, t) for s, t in outside.items())  # copies of helpers
    if in_place:
        edits.extend(Edit(s.start, s.end, t) for s, t in body_edits.items() if s not in outside)
        function_text = _apply_relative(source, target, body_edits, whole_lines=True)
    else:
        function_text = copy_text or _apply_relative(source, target, body_edits, whole_lines=True)
        function_text = re.sub(rf"(\bdef\s+){re.escape(target.name)}\b", rf"\g<1>{callee_name}", function_text, count=1)
        end = source.line_starts[target.end_lineno]
        separator = "\n\n" if not site.method_of and resolver.enclosing(target, (gast.FunctionDef,)) is None else "\n"
        edits.append(Edit(end, end, separator + function_text))
    callee = f"self.{callee_name}" if site.method_of is not None else callee_name
    arguments = [source.segment(a) for a in site.bound_args]
    arguments += [as_tensor(source, resolver, e) for e in site.inputs]
    arguments += [f"{k}={source.segment(v)}" for k, v in site.bound_kwargs.items()]
    call = f"{callee}({', '.join(arguments)})"
    edits.append(Edit(*_span(source.span(site.call)), _wrap_outputs(site, call, target)))
    return edits, function_text


def within(source, node, span) -> bool:
    own = source.span(node)
    return own.start <= span.start and span.end <= own.end


def as_tensor(source, resolver, node) -> str:
    """An input's text, converted to a tensor unless it provably is one already: the wrapper
    converted its inputs, and NumPy arrays passed straight to the rewrite would keep NumPy's
    Python-level behaviour (slicing an ndarray gives an ndarray)."""
    from .sites import _signature_fact

    text = source.segment(node)
    if _is_tensor(node, resolver) or _signature_fact(node, resolver) is not None:
        return text
    return f"tf.convert_to_tensor({text})"


def _is_tensor(node, resolver) -> bool:
    if isinstance(node, gast.Call):
        name = resolver.qualname(node.func) or ""
        return name.startswith("tensorflow.") and not name.startswith("tensorflow.numpy_function")
    if isinstance(node, gast.Name):
        definitions = resolver.definitions(node)
        if len(definitions) == 1:
            statement = resolver.parents.get(definitions[0])
            if isinstance(statement, gast.Assign) and statement.targets == [definitions[0]]:
                return _is_tensor(statement.value, resolver)
            parent = resolver.parents.get(resolver.parents.get(definitions[0]))
            if isinstance(parent, gast.Lambda) and _mapped_by_dataset(parent, resolver):
                return True
    return False


def _mapped_by_dataset(function, resolver) -> bool:
    """A lambda passed to `<dataset>.map(...)`: tf.data calls it with tensors."""
    call = resolver.parents.get(function)
    return isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == "map" \
        and function in call.args[:1]


def _wrap_outputs(site, call: str, target) -> str:
    """numpy_function with a list Tout returns a list even for one output."""
    if site.tout_is_list and len(site.tout) == 1:
        return f"[{call}]"
    return call


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


def edited_text(source, start: int, end: int, edits: dict) -> str:
    """The source between two offsets with the edits (Span -> text) that fall inside applied."""
    local = [Edit(s.start - start, s.end - start, t) for s, t in edits.items() if start <= s.start and s.end <= end]
    return apply_edits(source.text[start:end], local)


def _inline_lambda(target, body: str, inputs: list) -> str:
    """`lambda x: tf.exp(x)` applied to `t` gives `tf.exp(t)`."""
    names = [a.id for a in target.args.args]
    if len(names) != len(inputs):
        raise ValueError("lambda arity differs from the inputs")
    return substitute(body, dict(zip(names, inputs)))


def substitute(expression: str, mapping: dict) -> str:
    """An expression's source with parameter names replaced by argument expressions.

    Arguments are pasted in place only when that cannot change what runs: pure expressions
    (names, attributes, constants, shape and layout ops), or a single other argument used
    exactly once. Otherwise the expression becomes `(lambda a, b: ...)(arg_a, arg_b)`, so
    each argument is evaluated once, in order, even if unused (a random draw, an assign)."""
    tree = ast.parse(f"(\n{expression}\n)", mode="eval")  # parenthesized: a body may span lines
    uses = {name: 0 for name in mapping}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in uses:
            uses[node.id] += 1
    impure = [name for name, text in mapping.items() if not _pure(text)]
    if len(impure) > 1 or any(uses[name] != 1 for name in impure):
        params = ", ".join(mapping)
        return f"(lambda {params}: {ast.unparse(tree)})({', '.join(mapping.values())})"

    substituted = _Substitute(mapping).visit(tree)
    if substituted.captured:  # bind the arguments outside instead (the tree above was edited)
        params = ", ".join(mapping)
        original = ast.parse(f"(\n{expression}\n)", mode="eval")
        return f"(lambda {params}: {ast.unparse(original)})({', '.join(mapping.values())})"
    return ast.unparse(substituted.node)


class _Substitute(ast.NodeTransformer):
    """Replace free uses of the mapped names. A lambda or comprehension binding one of them
    shadows it inside (patterns bind `(lambda x: ...)(x * 2)`); a replacement whose own names
    such a binding would capture marks the result `captured`."""

    def __init__(self, mapping: dict):
        self.mapping = mapping
        self.free = {name: {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
                     for name, text in mapping.items()}
        self.shadowed: set = set()
        self.captured = False

    def visit(self, node):
        if isinstance(node, ast.Expression):
            self.node = ast.Expression(body=super().visit(node.body))
            return self
        return super().visit(node)

    def visit_Name(self, node):
        if node.id in self.mapping and node.id not in self.shadowed:
            self.captured |= bool(self.free[node.id] & self.shadowed)
            return ast.parse(parenthesize(self.mapping[node.id]), mode="eval").body
        return node

    def visit_Lambda(self, node):
        node.args = self.generic_visit(node.args)  # defaults are evaluated outside
        bound = {a.arg for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]}
        bound |= {a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None}
        node.body = self._inside(bound, node.body)
        return node

    def _comprehension(self, node, parts):
        bound = {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        for generator in node.generators:
            generator.iter = self.visit(generator.iter) if generator is node.generators[0] \
                else self._inside(bound, generator.iter)
            generator.ifs = [self._inside(bound, test) for test in generator.ifs]
        for part in parts:
            setattr(node, part, self._inside(bound, getattr(node, part)))
        return node

    def visit_ListComp(self, node):
        return self._comprehension(node, ("elt",))

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node):
        return self._comprehension(node, ("key", "value"))

    def _inside(self, bound, node):
        saved = self.shadowed
        self.shadowed = saved | bound
        try:
            return self.visit(node)
        finally:
            self.shadowed = saved


_PURE_CALLS = {"tf.transpose", "tf.reshape", "tf.shape", "tf.cast", "tf.convert_to_tensor", "tf.range",
               "tf.expand_dims", "tf.squeeze", "tf.identity"}


def _pure(text: str) -> bool:
    """Whether evaluating an expression twice, or not at all, changes nothing."""
    def pure(node) -> bool:
        if isinstance(node, (ast.Name, ast.Constant)):
            return True
        if isinstance(node, ast.Attribute):
            return pure(node.value)
        if isinstance(node, (ast.Tuple, ast.List)):
            return all(pure(e) for e in node.elts)
        if isinstance(node, ast.Subscript):
            return pure(node.value) and pure(node.slice)
        if isinstance(node, ast.Slice):
            return all(pure(part) for part in (node.lower, node.upper, node.step) if part is not None)
        if isinstance(node, ast.UnaryOp):
            return pure(node.operand)
        if isinstance(node, ast.BinOp):
            return pure(node.left) and pure(node.right)
        if isinstance(node, ast.Call):
            return ast.unparse(node.func) in _PURE_CALLS and all(pure(a) for a in node.args) \
                and all(pure(k.value) for k in node.keywords)
        return False

    try:
        return pure(ast.parse(text.strip(), mode="eval").body)
    except SyntaxError:
        return False


def _fresh_name(module: ParsedModule, wanted: str) -> str:
    return fresh_name(wanted, names_in(module.tree))


def names_in(tree) -> set:
    """Every name a tree uses or defines (functions and classes included)."""
    names = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)}
    return names | {n.name for n in gast.walk(tree) if isinstance(n, (gast.FunctionDef, gast.ClassDef))}


def fresh_name(wanted: str, taken: set) -> str:
    """`wanted`, or `wanted2`, `wanted3`... : the first not in `taken` (which then holds it)."""
    name, index = wanted, 2
    while name in taken:
        name, index = f"{wanted}{index}", index + 1
    taken.add(name)
    return name


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


def import_edit(module: ParsedModule) -> Edit:
    """An edit adding `import tensorflow as tf` after the module's leading imports."""
    body = module.tree.body
    position = 0
    for node in body:
        is_docstring = node is body[0] and isinstance(node, gast.Expr) and isinstance(node.value, gast.Constant) \
            and isinstance(node.value.value, str)
        if is_docstring or isinstance(node, (gast.Import, gast.ImportFrom)):
            position = module.source.line_starts[node.end_lineno]
        else:
            break
    return Edit(position, position, "import tensorflow as tf\n")


def use_alias(text: str, alias: str) -> str:
    """Generated code says `tf.`; a file that imports TensorFlow under another name keeps it."""
    return text if alias == "tf" else re.sub(r"(?<![\w.])tf\.", f"{alias}.", text)
