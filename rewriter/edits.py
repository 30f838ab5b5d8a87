"""Text edits on source: the primitives every stage that changes text shares.

An `Edit` replaces a character span; `apply_edits` applies many at once, right to left, so
offsets stay valid. `substitute` pastes argument expressions into a template expression
without changing what runs; `fresh_name` picks a name a file does not use yet.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

import gast

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


def edited_text(source, start: int, end: int, edits: dict) -> str:
    """The source between two offsets with the edits (Span -> text) that fall inside applied."""
    local = [Edit(s.start - start, s.end - start, t) for s, t in edits.items() if start <= s.start and s.end <= end]
    return apply_edits(source.text[start:end], local)


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
