"""Stage 5b — render: the emitted statements, written the way a person would write them.

Lowering composes TF expressions out of smaller ones, so a value needed twice is either
repeated or bound by an immediately applied lambda, and a per-row body is a lambda argument.
This stage takes the rewritten file and, for every statement the rewrite wrote (statements
the user wrote are never touched), rewrites its tree:

- `(lambda m: body)(value)` becomes `window_len = value` before the statement (here);
- a lambda argument (`tf.vectorized_map(lambda row: ..., x)`) becomes a local `def` (here);
- a non-trivial expression computed twice is computed once, into a local named after what it
  is (`share.py`, names from `naming.py`);
- NumPy-exact helpers the code calls are defined in the file (`render_helpers.py`);
- the result is laid out by black at the file's line length, in the file's quote style and
  indentation unit (`layout.py`, readings of the file from `source_text.py`).

Each transformation keeps what runs: only side-effect-free TensorFlow expressions are moved
or shared, and only out of positions Python evaluates unconditionally (`purity.py`).
"""
from __future__ import annotations

import ast
import copy

from .edits import fresh_name
from .layout import Style, long_headers
from .naming import describe
from .purity import SCOPES, number_constants, pure, walk_unconditional
from .render_helpers import define_helpers
from .share import replace_node, share_repeated
from .source_text import (LINE_WITH_END, code_part, comments, header_texts, identifiers, indent_of, module_names,
                          statement_texts, text_key, text_lines)

_OFF = "# rewriter: off"  # the comment the dispatch writes: ours, so it counts in the line length


_SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr)


def render(original: str, new: str, line_length: int = 88, tf_alias: str = "tf") -> str:
    """`new` with its emitted statements tidied; `original` tells the user's statements apart."""
    if new == original:
        return new
    try:
        new, helpers = define_helpers(new, tf_alias)
        tree = ast.parse(new)
        original_tree = ast.parse(original)
        user = statement_texts(original, original_tree) | helpers.statements
    except (SyntaxError, ValueError):
        return new  # the pipeline reports a rewrite that does not parse
    style = Style(original, line_length, tf_alias, helpers.names, number_constants(tree))
    user_lambdas = {_lambda_key(n) for n in ast.walk(original_tree) if isinstance(n, ast.Lambda)}
    lines = LINE_WITH_END.findall(new)
    names_of_module = module_names(tree)
    taken_in: dict = {}  # function -> the names a new local there must not take
    replacements = []  # (first line index, end line index, text)
    for block, function in _blocks(tree):
        emitted = [isinstance(s, _SIMPLE) and text_key(new, s) not in user for s in block]
        if not any(emitted):
            continue
        taken = taken_in.setdefault(function, names_of_module | identifiers(function or tree))
        replacements.extend(_Block(block, emitted, function is not None, style, taken, new, user_lambdas)
                            .replacements())
    replacements.extend(long_headers(tree, new, header_texts(original, original_tree), style))
    replacements.extend(_blank_lines_around_local_defs(tree, new, user))
    for first, end, text in sorted(replacements, reverse=True):
        lines[first:end] = [text]
    return "".join(lines)


def _blank_lines_around_local_defs(tree, text: str, user: set):
    """A blank line before and after each local def the rewrite wrote (`def _step(...)` of a
    running total), as black writes them; the first statement of a block needs none before."""
    lines = text_lines(text)
    for block, function in _blocks(tree):
        if function is None:
            continue
        for index, statement in enumerate(block):
            if not isinstance(statement, SCOPES) or text_key(text, statement) in user:
                continue
            first = (statement.decorator_list[0] if statement.decorator_list else statement).lineno - 1
            if index > 0 and lines[first - 1].strip():
                yield first, first, "\n"
            if index < len(block) - 1 and lines[statement.end_lineno].strip():
                yield statement.end_lineno, statement.end_lineno, "\n"


class _Block:
    """One block of statements (a function body, a branch), with the emitted ones marked."""

    def __init__(self, block, emitted, in_function, style, taken, text, user_lambdas):
        self.block, self.in_function = block, in_function
        self.style, self.taken, self.text, self.user_lambdas = style, taken, text, user_lambdas
        # a statement sharing a line (`a = 1; b = 2`, `if c: return x`) is left as written: its
        # lines cannot be replaced without the other statement or the header on them
        self.emitted = [e and self._alone_on_its_lines(i) for i, e in enumerate(emitted)]

    def replacements(self):
        statements = []  # (position in block, new statement or the original)
        changed = set()
        for index, (statement, emitted) in enumerate(zip(self.block, self.emitted)):
            if not emitted or not self.in_function:
                statements.append((index, statement))
                continue
            new = _Rewriter(self.style, self.taken, self.user_lambdas).statement(copy.deepcopy(statement))
            if len(new) > 1 or ast.dump(new[0]) != ast.dump(statement):
                changed.add(index)
            statements.extend((index, s) for s in new)
        if self.in_function:
            emitted = {i for i, e in enumerate(self.emitted) if e}
            changed |= share_repeated(statements, emitted, self.taken, self.style.ops)
        out = []
        for index, statement in enumerate(self.block):
            if not self.emitted[index]:
                continue
            if index not in changed and not self._too_long(statement):
                continue
            indent = indent_of(self.text, statement)
            kept, trailing = comments(self.text, statement)
            mine = [s for i, s in statements if i == index]
            parts = []
            for k, new in enumerate(mine):
                text = self.style.format(new, indent, kept if k == 0 else [], trailing if k == len(mine) - 1 else "")
                if isinstance(new, SCOPES):  # a blank line around a local def, as black writes it
                    first = index == 0 and k == 0
                    last = index == len(self.block) - 1 and k == len(mine) - 1
                    text = ("" if first else "\n") + text + ("" if last else "\n")
                parts.append(text)
            out.append((statement.lineno - 1, statement.end_lineno, "".join(parts).replace("\n\n\n", "\n\n")))
        return out

    def _too_long(self, statement) -> bool:
        lines = text_lines(self.text)[statement.lineno - 1:statement.end_lineno]
        return any(len(line.rstrip() if line.rstrip().endswith(_OFF) else code_part(line)) > self.style.line_length
                   for line in lines)

    def _alone_on_its_lines(self, index) -> bool:
        statement = self.block[index]
        others = self.block[:index] + self.block[index + 1:]
        if any(o.end_lineno >= statement.lineno and o.lineno <= statement.end_lineno for o in others):
            return False
        lines = text_lines(self.text)
        before = lines[statement.lineno - 1].encode()[:statement.col_offset]
        after = lines[statement.end_lineno - 1].encode()[statement.end_col_offset:].decode(errors="replace").strip()
        return not before.strip() and (not after or after.startswith("#"))


class _Rewriter:
    """The statement-level rewrites of one emitted statement: lambdas out, bindings up."""

    def __init__(self, style, taken, user_lambdas):
        self.style, self.taken, self.user_lambdas = style, taken, user_lambdas

    def statement(self, statement) -> list:
        """The statement, preceded by the local defs and bindings taken out of it."""
        before = []
        for lam, role in _lambda_arguments(statement):
            if _lambda_key(lam) not in self.user_lambdas:
                before.append(self._as_def(lam, role, statement))
        while True:
            applied = next(_unconditional_iifes(statement, self.style.ops), None)
            if applied is None:
                break
            before.extend(self._lift(applied, statement))
        return before + [statement]

    def _as_def(self, lam, role, statement):
        name = fresh_name(role, self.taken)
        body = [ast.Return(value=lam.body)]
        function = ast.FunctionDef(name=name, args=lam.args, body=body, decorator_list=[], returns=None,
                                   type_params=[])
        replace_node(statement, lam, ast.Name(id=name, ctx=ast.Load()))
        # inside the def its parameters are taken too: a new local must not overwrite one
        inner = _Rewriter(self.style, self.taken | {a.arg for a in lam.args.args}, self.user_lambdas)
        statements = [(0, s) for body_statement in body for s in inner.statement(body_statement)]
        share_repeated(statements, {0}, inner.taken, self.style.ops)
        function.body = [s for _, s in statements]
        return ast.fix_missing_locations(function)

    def _lift(self, call, statement) -> list:
        lam = call.func
        bindings, renames = [], {}
        bound_inside = {a.arg for inner in ast.walk(lam.body) if isinstance(inner, ast.Lambda) for a in inner.args.args}
        for parameter, value in zip(lam.args.args, call.args):
            if isinstance(value, ast.Name) and value.id not in bound_inside:
                renames[parameter.arg] = value.id  # `(lambda xp: ...)(KNOTS)` reads KNOTS where it used xp
                continue
            name = fresh_name(_binding_name(parameter.arg, value, self.style.tf_alias), self.taken)
            renames[parameter.arg] = name
            bindings.append(ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=value, lineno=0))
        body = _Rename(renames).visit(lam.body)
        replace_node(statement, call, body)
        return [ast.fix_missing_locations(b) for b in bindings]


def _binding_name(parameter: str, value, tf_alias: str) -> str:
    """A parameter name that says what it holds is kept; a letter gets a name from its value."""
    if len(parameter) >= 2 and not parameter.startswith("_"):
        return parameter
    return describe(value, tf_alias) or parameter


def _lambda_key(lam) -> str:
    """A lambda as the user wrote it: kept as a lambda where the rewrite left it unchanged."""
    return ast.dump(lam.args) + ast.dump(lam.body)


def _lambda_arguments(statement):
    """Lambdas passed as arguments in the statement, outermost first, each with a def name."""
    found = []
    for node in walk_unconditional(statement):
        if not isinstance(node, ast.Call):
            continue
        callee = ast.unparse(node.func)
        for position, argument in enumerate([*node.args, *[k.value for k in node.keywords]]):
            if isinstance(argument, ast.Lambda):
                found.append((argument, _role(callee, position, argument)))
    return found


def _role(callee: str, position: int, lam) -> str:
    """A name for a lambda from what it is passed to."""
    short = callee.rsplit(".", 1)[-1]
    if short == "cond":
        return ("then_branch", "else_branch")[min(position - 1, 1)] if position else "branch"
    if short == "while_loop":
        return ("loop_condition", "loop_body")[min(position, 1)]
    params = [a.arg for a in lam.args.args]
    if short in ("vectorized_map", "map_fn"):
        return f"per_{params[0]}" if params else "per_element"
    if short in ("scan", "foldl", "foldr"):
        return "step"
    if short == "map_structure":
        return "per_structure_part"
    return f"{params[0]}_fn" if params else "function"


def _unconditional_iifes(statement, ops):
    """`(lambda ...: body)(args)` calls Python evaluates whenever the statement runs, whose
    arguments can move ahead of the statement without changing what it computes."""
    for node in walk_unconditional(statement):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Lambda) and not node.keywords \
                and _plain_parameters(node.func) and len(node.args) == len(node.func.args.args) \
                and all(pure(a, ops) for a in node.args):
            yield node


def _plain_parameters(lam) -> bool:
    args = lam.args
    return not (args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg or args.defaults)


class _Rename(ast.NodeTransformer):
    """Rename free uses of names (a nested lambda or comprehension binding one shadows it)."""

    def __init__(self, renames: dict):
        self.renames = renames

    def visit_Name(self, node):
        if node.id in self.renames:
            return ast.copy_location(ast.Name(id=self.renames[node.id], ctx=node.ctx), node)
        return node

    def visit_Lambda(self, node):
        bound = {a.arg for a in node.args.args}
        inner = _Rename({k: v for k, v in self.renames.items() if k not in bound})
        node.args = self.generic_visit(node.args)
        node.body = inner.visit(node.body)
        return node


def _blocks(tree):
    """Every statement block, with the function it belongs to (None at module or class level,
    where a new name would become a global or an attribute)."""
    stack = [(tree.body, None)]
    while stack:
        block, function = stack.pop()
        yield block, function
        for statement in block:
            inner = function if not isinstance(statement, ast.ClassDef) else None
            if isinstance(statement, SCOPES):
                inner = statement
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(statement, field, None), list) and getattr(statement, field):
                    stack.append((getattr(statement, field), inner))
            for handler in getattr(statement, "handlers", []):
                stack.append((handler.body, inner))
            for case in getattr(statement, "cases", []):
                stack.append((case.body, inner))
