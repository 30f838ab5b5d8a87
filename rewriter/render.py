"""Stage 5b — render: the emitted statements, written the way a person would write them.

Lowering composes TF expressions out of smaller ones, so a value needed twice is either
repeated or bound by an immediately applied lambda, and a per-row body is a lambda argument.
This stage takes the rewritten file and, for every statement the rewrite wrote (statements
the user wrote are never touched), rewrites its tree:

- `(lambda m: body)(value)` becomes `window_len = value` before the statement;
- a lambda argument (`tf.vectorized_map(lambda row: ..., x)`) becomes a local `def`;
- a non-trivial expression computed twice is computed once, into a local named after what it
  is (`scores_bits`, `n_rewards`, `x_has_nan`);
- the result is formatted by black at the file's line length, in the file's quote style,
  and indented with the file's indentation unit.

Each transformation keeps what runs: only side-effect-free TensorFlow expressions are moved
or shared, and only out of positions Python evaluates unconditionally.
"""
from __future__ import annotations

import ast
import builtins
import copy
import functools
import io
import re
import tokenize

from . import helper_source
from .edits import fresh_name
from .naming import describe

_STATEFUL = re.compile(r"^(random|print|Variable|numpy_function|py_function|compat|summary|debugging|io|data|"
                       r"keras|saved_model|distribute|config|raw_ops|function|autograph)\b")
_LINE_END = re.compile(r"\r\n|\r|\n")
_LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_OFF = "# rewriter: off"  # the comment the dispatch writes: ours, so it counts in the line length
_SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef)


def render(original: str, new: str, line_length: int = 88, tf_alias: str = "tf") -> str:
    """`new` with its emitted statements tidied; `original` tells the user's statements apart."""
    if new == original:
        return new
    try:
        new, helpers = _define_helpers(new, tf_alias)
        tree = ast.parse(new)
        user = _statement_texts(original) | helpers.statements
    except (SyntaxError, ValueError):
        return new  # the pipeline reports a rewrite that does not parse
    style = _Style(original, line_length, tf_alias, helpers.names)
    lines = _LINE_WITH_END.findall(new)
    module_names = _module_names(tree)
    taken_in: dict = {}  # function -> the names a new local there must not take
    replacements = []  # (first line index, end line index, text)
    for block, function in _blocks(tree):
        emitted = [isinstance(s, _SIMPLE) and _text_key(new, s) not in user for s in block]
        if not any(emitted):
            continue
        taken = taken_in.setdefault(function, module_names | _identifiers(function or tree))
        replacements.extend(_Block(block, emitted, function is not None, style, taken, new).replacements())
    replacements.extend(_long_headers(tree, new, _header_texts(original), style))
    for first, end, text in sorted(replacements, reverse=True):
        lines[first:end] = [text]
    return "".join(lines)


class _Helpers:
    """The helper functions a rewritten file defines: their names, and their statements (the
    render stage leaves them as written)."""

    def __init__(self, names=(), texts=()):
        self.names = frozenset(names)
        self.statements = {_text_key(text, s) for text in texts for s in ast.walk(ast.parse(text))
                           if isinstance(s, ast.stmt)}


def _define_helpers(new: str, tf_alias: str):
    """`new` with its helper calls named and the helpers defined in the file's helper block
    (made after the imports when the file has none; a helper it has already is reused)."""
    needed = helper_source.used(new)
    existing = _existing_helpers(new)
    if not needed:
        return new, _Helpers(existing.values(), [])
    tree = ast.parse(new)
    taken = _identifiers(tree)
    names, added = {}, []
    for helper in needed:
        if helper in existing:
            names[helper] = existing[helper]
            continue
        names[helper] = fresh_name(helper, taken)
        added.append(helper_source.source(helper, tf_alias, names[helper]))
    new = helper_source.rename_calls(new, names)
    if added:
        lines = _LINE_WITH_END.findall(new)
        end = next((k for k, line in enumerate(lines) if line.rstrip() == helper_source.BLOCK_END), None)
        if end is not None:
            lines[end:end] = ["\n".join(added) + "\n\n"]
        else:
            after = _after_imports(tree)
            blank = next((k for k, line in enumerate(lines[after:]) if line.strip()), len(lines) - after)
            lines[after:after] = ["\n\n" + helper_source.file_block(added) + "\n" * max(0, 2 - blank)]
        new = "".join(lines)
    return new, _Helpers({*names.values(), *existing.values()}, added)


def _existing_helpers(text: str) -> dict:
    """helper -> its name in the file, for the helpers the file's helper block defines."""
    if helper_source.BLOCK_START not in text:
        return {}
    block = text.split(helper_source.BLOCK_START, 1)[1].split(helper_source.BLOCK_END, 1)[0]
    found = {}
    for name in re.findall(r"(?m)^def (np_\w+?)(\d*)\(", block):
        found.setdefault(name[0], name[0] + name[1])
    return found


def _after_imports(tree) -> int:
    """The line index after the module's docstring and leading imports."""
    end = 0
    for k, statement in enumerate(tree.body):
        docstring = k == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        if not (docstring or isinstance(statement, (ast.Import, ast.ImportFrom))):
            break
        end = statement.end_lineno
    return end


class _Style:
    """What the file's own code looks like: line length, indentation unit, quotes."""

    def __init__(self, original: str, line_length: int, tf_alias: str, helpers=()):
        self.line_length = line_length
        self.tf_alias = tf_alias
        self.ops = PureOps(tf_alias, helpers)
        self.unit = _indent_unit(original)
        self.double_quotes = _prefers_double_quotes(original)
        self.user_lambdas = {_lambda_key(n) for n in ast.walk(ast.parse(original)) if isinstance(n, ast.Lambda)}

    def format(self, statement: ast.stmt, indent: str, comments: list, trailing: str) -> str:
        source = ast.unparse(statement) + (f"  {trailing}" if trailing else "")
        text = self.layout(source, indent)
        return "".join(f"{indent}{c}\n" for c in comments) + text

    def layout(self, source: str, indent: str) -> str:
        """`source` laid out by black at the room left by `indent`, in the file's indentation."""
        text = _black(source, self.line_length - len(indent), self.double_quotes)
        if self.unit != "    ":
            text = re.sub(r"(?m)^((?:    )+)", lambda m: self.unit * (len(m.group(1)) // 4), text)
        return "".join(f"{indent}{line}\n" if line else "\n" for line in text.splitlines())


def _black(source: str, line_length: int, double_quotes: bool) -> str:
    """black's layout of one statement; the unformatted text when it is short enough anyway."""
    if "\n" not in source and len(source) <= line_length and (not double_quotes or "'" not in source):
        return source
    import black

    mode = black.Mode(line_length=max(line_length, 40), string_normalization=double_quotes,
                      magic_trailing_comma=False)
    return black.format_str(source, mode=mode).rstrip("\n")


class _Block:
    """One block of statements (a function body, a branch), with the emitted ones marked."""

    def __init__(self, block, emitted, in_function, style, taken, text):
        self.block, self.emitted, self.in_function = block, emitted, in_function
        self.style, self.taken, self.text = style, taken, text

    def replacements(self):
        statements = []  # (position in block, new statement or the original)
        changed = set()
        for index, (statement, emitted) in enumerate(zip(self.block, self.emitted)):
            if not emitted or not self.in_function:
                statements.append((index, statement))
                continue
            new = _Rewriter(self.style, self.taken, self.style.user_lambdas).statement(copy.deepcopy(statement))
            if len(new) > 1 or ast.dump(new[0]) != ast.dump(statement):
                changed.add(index)
            statements.extend((index, s) for s in new)
        if self.in_function:
            emitted = {i for i, e in enumerate(self.emitted) if e}
            changed |= _share_repeated(statements, emitted, self.taken, self.style.ops)
        out = []
        for index, statement in enumerate(self.block):
            if not self.emitted[index]:
                continue
            if index not in changed and not self._too_long(statement):
                continue
            if not self._alone_on_its_lines(index):
                continue
            indent = _indent(self.text, statement)
            comments, trailing = _comments(self.text, statement)
            mine = [s for i, s in statements if i == index]
            parts = []
            for k, new in enumerate(mine):
                text = self.style.format(new, indent, comments if k == 0 else [], trailing if k == len(mine) - 1 else "")
                if isinstance(new, _SCOPES):  # a blank line around a local def, as black writes it
                    first = index == 0 and k == 0
                    last = index == len(self.block) - 1 and k == len(mine) - 1
                    text = ("" if first else "\n") + text + ("" if last else "\n")
                parts.append(text)
            out.append((statement.lineno - 1, statement.end_lineno, "".join(parts).replace("\n\n\n", "\n\n")))
        return out

    def _too_long(self, statement) -> bool:
        lines = _lines(self.text)[statement.lineno - 1:statement.end_lineno]
        return any(len(line.rstrip() if line.rstrip().endswith(_OFF) else _code_part(line)) > self.style.line_length
                   for line in lines)

    def _alone_on_its_lines(self, index) -> bool:
        statement = self.block[index]
        others = self.block[:index] + self.block[index + 1:]
        return not any(o.end_lineno >= statement.lineno and o.lineno <= statement.end_lineno for o in others)


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
        _replace(statement, lam, ast.Name(id=name, ctx=ast.Load()))
        statements = [(0, s) for inner in body for s in self.statement(inner)]
        _share_repeated(statements, {0}, self.taken, self.style.ops)
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
        _replace(statement, call, body)
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
    for node in _walk_unconditional(statement):
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
    for node in _walk_unconditional(statement):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Lambda) and not node.keywords \
                and _plain_parameters(node.func) and len(node.args) == len(node.func.args.args) \
                and all(_pure(a, ops) for a in node.args):
            yield node


def _plain_parameters(lam) -> bool:
    args = lam.args
    return not (args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg or args.defaults)


def _walk_unconditional(node, branches: bool = False):
    """Nodes of an expression or statement that run whenever it does, outermost first: not
    inside a lambda's body, a comprehension, an `if`-expression's branches, the later operands
    of `and` / `or`, or assignment targets. With `branches`, the nodes of those branches and
    operands too (they may run: they can read a value computed before the statement)."""
    yield node
    if isinstance(node, (*_SCOPES, ast.ClassDef, ast.Lambda)):
        return  # a body that runs when it is called, not here
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        yield from _walk_unconditional(node.generators[0].iter, branches)
        return
    if isinstance(node, (ast.IfExp, ast.BoolOp)) and not branches:
        yield from _walk_unconditional(node.test if isinstance(node, ast.IfExp) else node.values[0])
        return
    for field, value in ast.iter_fields(node):
        if field == "targets" or (field == "target" and isinstance(node, (ast.AugAssign, ast.AnnAssign))):
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST):
                yield from _walk_unconditional(child, branches)


def _pure(node, ops) -> bool:
    """Whether evaluating the expression earlier, or once instead of twice, changes nothing:
    names, constants, arithmetic, subscripts and TensorFlow ops that neither draw random
    numbers nor touch state."""
    return all(ops.pure_call(part) if isinstance(part, ast.Call) else not isinstance(part, _IMPURE)
               for part in ast.walk(node))


def _calls_pure_ops_only(statement, ops) -> bool:
    """Whether running the statement can change nothing but what it assigns: each call in it
    is a pure TF op (a variable's `assign` or a user function could change any value)."""
    return all(ops.pure_call(part) if isinstance(part, ast.Call) else not isinstance(part, _SUSPENDS)
               for part in ast.walk(statement))


class PureOps:
    """Which calls neither draw random numbers nor touch state: TensorFlow's ops (not
    `tf.random`, `tf.print`, variables...), a few builtins, and the file's rewriter helpers."""

    def __init__(self, tf_alias: str = "tf", helpers=()):
        self.tf_alias, self.helpers = tf_alias, frozenset(helpers)

    def pure_call(self, call) -> bool:
        callee = ast.unparse(call.func)
        head, _, rest = callee.partition(".")
        if not rest:
            return callee in _PURE_BUILTINS or callee in self.helpers
        return head in (self.tf_alias, "tf") and not _STATEFUL.match(rest)


_PURE_BUILTINS = {"float", "int", "complex", "bool", "abs", "round", "min", "max", "len"}


_SUSPENDS = (ast.Yield, ast.YieldFrom, ast.Await)
_IMPURE = (ast.Lambda, ast.NamedExpr, ast.Starred, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
           *_SUSPENDS)


def _trivial(node) -> bool:
    """Names, attributes of names, constants and literal tuples: nothing to share."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.Attribute):
        return _trivial(node.value)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_trivial(e) for e in node.elts)
    return isinstance(node, (ast.Slice, ast.expr_context, ast.keyword, ast.Lambda))


def _share_repeated(statements: list, emitted: set, taken: set, ops) -> set:
    """Bind each non-trivial pure expression that the emitted statements compute more than
    once to one local, computed before its first use. Returns the block positions changed."""
    changed = set()
    for _ in range(50):
        found = _largest_repeat(statements, emitted, ops)
        if found is None:
            return changed
        key, uses = found
        first = uses[0][0]
        value = uses[0][1]
        reuse = _assigned_name(statements[first][1], value)
        if reuse is None:
            name = fresh_name(describe(value, ops.tf_alias) or "value", taken)
            binding = ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=copy.deepcopy(value), lineno=0)
            statements.insert(first, (statements[first][0], ast.fix_missing_locations(binding)))
            uses = [(k + 1 if k >= first else k, node) for k, node in uses]
        else:
            name, uses = reuse, uses[1:]
        for position, node in uses:
            _replace(statements[position][1], node, ast.Name(id=name, ctx=ast.Load()))
            changed.add(statements[position][0])
        changed.add(statements[first][0])
    return changed


def _largest_repeat(statements, emitted, ops):
    """The biggest expression that occurs twice in emitted statements with nothing it reads
    rebound between the occurrences: (its dump, [(statement position, node), ...]). Only
    statements whose every call is a pure TF op take part: any other call might change
    what a name holds (a variable's `assign`, a function setting a global)."""
    occurrences: dict = {}
    clean = [_calls_pure_ops_only(s, ops) for _, s in statements]
    for position, (index, statement) in enumerate(statements):
        if index not in emitted or not clean[position]:
            continue
        always = {id(n) for n in _walk_unconditional(statement)}
        for node in _walk_unconditional(statement, branches=True):
            if isinstance(node, ast.expr) and not _trivial(node) and _pure(node, ops):
                occurrences.setdefault(ast.dump(node), []).append((position, node, id(node) in always))
    best = None
    for key, uses in occurrences.items():
        first = next((k for k, use in enumerate(uses) if use[2]), None)
        if first is None:
            continue  # computed only where it may not run: nowhere to compute it once
        uses = _same_values(statements, [use[:2] for use in uses[first:]], clean)
        if len(uses) < 2:
            continue
        size = sum(1 for _ in ast.walk(uses[0][1]))
        if best is None or size > best[0]:
            best = (size, key, uses)
    return None if best is None else (best[1], best[2])


def _same_values(statements, uses, clean):
    """The occurrences, from the first, that see the same values: none of the names the
    expression reads is assigned between them, and nothing between calls anything else
    than pure TF ops."""
    reads = {n.id for n in ast.walk(uses[0][1]) if isinstance(n, ast.Name)}
    kept = [uses[0]]
    for position, node in uses[1:]:
        between = [s for _, s in statements[kept[-1][0]:position]]
        if any(_assigns(s) & reads for s in between) or not all(clean[kept[-1][0]:position + 1]):
            break
        if any(node is kept_node or _contains(kept_node, node) for _, kept_node in kept):
            continue
        kept.append((position, node))
    return kept


def _contains(outer, inner) -> bool:
    return any(n is inner for n in ast.walk(outer))


def _assigns(statement) -> set:
    names = {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
    return names | {n.name for n in ast.walk(statement) if isinstance(n, (*_SCOPES, ast.ClassDef))}


def _assigned_name(statement, value):
    """`name = value`: later uses of value can read `name`."""
    if isinstance(statement, ast.Assign) and statement.value is value and len(statement.targets) == 1 \
            and isinstance(statement.targets[0], ast.Name) \
            and statement.targets[0].id not in {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}:
        return statement.targets[0].id
    return None


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


def _replace(root, old, new) -> None:
    """Put `new` where `old` is inside `root`."""
    for parent in ast.walk(root):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for k, item in enumerate(value):
                    if item is old:
                        value[k] = new
                        return
    raise ValueError("node not found")


def _blocks(tree):
    """Every statement block, with the function it belongs to (None at module or class level,
    where a new name would become a global or an attribute)."""
    stack = [(tree.body, None)]
    while stack:
        block, function = stack.pop()
        yield block, function
        for statement in block:
            inner = function if not isinstance(statement, ast.ClassDef) else None
            if isinstance(statement, _SCOPES):
                inner = statement
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(statement, field, None), list) and getattr(statement, field):
                    stack.append((getattr(statement, field), inner))
            for handler in getattr(statement, "handlers", []):
                stack.append((handler.body, inner))
            for case in getattr(statement, "cases", []):
                stack.append((case.body, inner))


def _long_headers(tree, text: str, user_headers: set, style):
    """Emitted `if` / `elif` lines longer than the line length, laid out by black."""
    lines = _lines(text)
    for statement in ast.walk(tree):
        if not isinstance(statement, ast.If) or statement.body[0].lineno == statement.lineno:
            continue
        first = statement.lineno - 1
        end = next((k + 1 for k in range(statement.test.end_lineno - 1, statement.body[0].lineno - 1)
                    if _code_part(lines[k]).endswith(":")), None)
        if end is None:
            continue
        header = lines[first:end]
        if _header_key(header) in user_headers or all(len(line) <= style.line_length for line in header):
            continue
        keyword = header[0].strip().split(None, 1)[0].split("(", 1)[0]
        if keyword not in ("if", "elif") or "#" in "".join(header):
            continue
        indent = _indent(text, statement)
        laid_out = style.layout(f"if {ast.unparse(statement.test)}:\n    pass", indent).splitlines(keepends=True)
        laid_out = laid_out[: next(k for k, line in enumerate(laid_out) if line.rstrip().endswith(":")) + 1]
        laid_out[0] = laid_out[0].replace("if", keyword, 1)
        yield first, end, "".join(laid_out)


def _header_texts(source: str) -> set:
    lines = _lines(source)
    return {_header_key(lines[s.lineno - 1:s.test.end_lineno]) for s in ast.walk(ast.parse(source))
            if isinstance(s, ast.If)} | {_header_key(lines[s.lineno - 1:s.test.end_lineno + 1])
                                         for s in ast.walk(ast.parse(source)) if isinstance(s, ast.If)}


def _header_key(lines) -> tuple:
    return tuple(line.strip() for line in lines)


def _statement_texts(source: str) -> set:
    tree = ast.parse(source)
    return {_text_key(source, s) for s in ast.walk(tree) if isinstance(s, ast.stmt)}


def _text_key(source: str, statement) -> tuple:
    """A statement's lines as written, indentation included: a user's statement that a copy
    nests one level deeper (under a dispatch `if`) is the rewrite's to lay out."""
    lines = _lines(source)[statement.lineno - 1:statement.end_lineno]
    return tuple(line.rstrip() for line in lines)


def _module_names(tree) -> set:
    """Names bound at module level, and the builtins: a new local must shadow neither."""
    names = set(dir(builtins))
    for statement in tree.body:
        if isinstance(statement, (*_SCOPES, ast.ClassDef)):
            names.add(statement.name)
        else:
            names |= _identifiers(statement)
    return names


@functools.lru_cache(maxsize=8)
def _lines(text: str) -> list:
    """The text's lines as Python numbers them (not at form feeds), split once per text
    (callers must not change the list)."""
    return _LINE_END.split(text)


def _identifiers(tree) -> set:
    """Every name a tree reads or binds, except a lambda's parameters and their uses in its
    body (local to that lambda: a new local may take their name)."""
    names = set()
    for node in ast.iter_child_nodes(tree) if not isinstance(tree, ast.Lambda) else [tree.body]:
        names |= _identifiers(node)
    if isinstance(tree, ast.Lambda):
        names -= {a.arg for a in tree.args.args}
        names |= _identifiers(tree.args) - {a.arg for a in tree.args.args}
    elif isinstance(tree, ast.Name):
        names.add(tree.id)
    elif isinstance(tree, ast.arg):
        names.add(tree.arg)
    elif isinstance(tree, (*_SCOPES, ast.ClassDef)):
        names.add(tree.name)
    elif isinstance(tree, ast.alias):
        names.add((tree.asname or tree.name).split(".")[0])
    return names


def _indent(text: str, statement) -> str:
    line = _lines(text)[statement.lineno - 1]
    return line[: len(line) - len(line.lstrip())]


def _comments(text: str, statement):
    """The comments inside a statement's lines: those on earlier lines, and the last line's."""
    lines = [line + "\n" for line in _lines(text)[statement.lineno - 1:statement.end_lineno]]
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO("".join(lines).lstrip()).readline):
            if token.type == tokenize.COMMENT:
                found.append((token.start[0], token.string))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [], ""
    last = len(lines)
    trailing = next((c for line, c in found if line == last), "")
    return [c for line, c in found if line != last], trailing


def _code_part(line: str) -> str:
    """A line without its trailing comment (a comment may be as long as its writer chose)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return line.rstrip()
    comment = next((t for t in tokens if t.type == tokenize.COMMENT), None)
    if comment is None:
        return line.rstrip()
    indent = len(line) - len(line.lstrip())
    return line[: indent + comment.start[1]].rstrip()


def _indent_unit(source: str) -> str:
    """The file's indentation step: the smallest indent that a block opener adds."""
    steps = []
    previous = None
    for line in source.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = line[: len(line) - len(line.lstrip())]
        if previous is not None and previous[1].endswith(":") and len(indent) > len(previous[0]) \
                and indent.startswith(previous[0]):
            steps.append(indent[len(previous[0]):])
        previous = (indent, line.split("#", 1)[0].rstrip())
    return min(steps, key=len) if steps else "    "


def _prefers_double_quotes(source: str) -> bool:
    double = single = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING:
                body = token.string.lstrip("rbuRBUfF")
                double += body.startswith('"')
                single += body.startswith("'")
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return True
    return double >= single
