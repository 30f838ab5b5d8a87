"""Simplifications across the straight-line statements of a lowered function.

Lowering translates one statement at a time, exactly; a few NumPy idioms spread over several
statements then run as several TF ops where one cheaper op gives the same values. After a
function body is lowered (`walker.run`), this pass reads the lowered text of its top-level
statements as trees and rewrites three such idioms:

- `one_hot_then_cast`: a `tf.one_hot` row set (from `np.eye(n)[labels]`), changed by
  arithmetic with constant scalars only, then cast: one `tf.one_hot` of the cast dtype whose
  on and off values are that arithmetic applied once to 1 and to 0 in the original dtype.
- `narrower_draw`: a float64 draw that only reaches a cast to a narrower float through + and -
  with operands of that float: drawn in the narrower float.
- `softmax`: `z - max(z)`, `exp`, divided by its own sum over one axis: `tf.nn.softmax`,
  with NumPy's NaN slices (`tf_helpers.numpy_softmax`).

Each rule states when it holds; anything else is left as lowered. A name is folded into a later
statement only when nothing else reads it (`_Body.definition`).
"""
from __future__ import annotations

import ast

import gast

from .edits import fresh_name, names_in
from .facts import Kind
from .parse import Span

_ONE_HOT_CASTS = {"tf.float16", "tf.float32", "tf.float64", "tf.int32", "tf.int64"}
_NARROWER_FLOATS = {"tf.float16": 2, "tf.float32": 4}
"""Cast targets a float64 draw can be narrowed to, with their item sizes."""
_DRAWS = {"tf.random.normal", "tf.random.uniform", "tf.random.stateless_normal", "tf.random.stateless_uniform"}
_DRAW_PARAMETERS = {"mean", "stddev", "minval", "maxval"}
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div)
"""Operators that never raise on a tensor (integer `//` and `%` by zero do)."""


class _Statement:
    """One top-level statement: its node and, for `name = value`, `return value` and bare
    expressions whose only edit (if any) is the whole value, the lowered value as a tree."""

    def __init__(self, lw, node):
        self.node = node
        self.span = Span(lw.source.line_starts[node.lineno - 1], lw.source.line_starts[node.end_lineno])
        self.target = None
        self.tree = None
        self.changed = False
        self.before = []
        """Statements (text) to put before this one."""
        value = getattr(node, "value", None)
        if isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name):
            self.target = node.targets[0].id
        elif not isinstance(node, (gast.Return, gast.Expr)) or value is None:
            return
        self.value_span = lw.source.span(value)
        inside = [s for s in lw.out.edits if self.span.start <= s.start and s.end <= self.span.end]
        own_lines = lw.source.text[self.span.start:self.span.end].strip() == lw.source.segment(node).strip()
        if inside not in ([], [self.value_span]) or not own_lines:
            return
        text = lw.out.edits.get(self.value_span, lw.source.segment(value))
        try:
            self.tree = ast.parse(text.strip(), mode="eval").body
        except SyntaxError:
            self.tree = None

    def mentions(self) -> list:
        """Every name the statement reads or writes, in the source and in its lowered tree."""
        names = [n.id for n in gast.walk(self.node) if isinstance(n, gast.Name)]
        if self.tree is not None:
            names += [n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)]
        return names

    def stores(self) -> set:
        return {n.id for n in gast.walk(self.node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


class _Body:
    """The top-level statements of a lowered function, and the edits that rewrite them."""

    def __init__(self, lw):
        self.lw = lw
        self.statements = [_Statement(lw, s) for s in lw.fn.body]
        self.deleted = set()
        self.taken = names_in(lw.fn)

    def definition(self, name: str, j: int, uses: int = 1) -> int | None:
        """Index of the statement `name = ...` whose value only statement j reads, `uses`
        times: no statement between mentions the name, and no later one does (unless
        statement j binds it anew)."""
        for i in range(j - 1, -1, -1):
            statement = self.statements[i]
            if statement.target == name and statement.tree is not None and i not in self.deleted:
                break
            if name in statement.mentions():
                return None
        else:
            return None
        use = self.statements[j]
        if use.tree is None or [n.id for n in ast.walk(use.tree) if isinstance(n, ast.Name)].count(name) != uses:
            return None
        if use.target != name and any(name in s.mentions() for s in self.statements[j + 1:]):
            return None
        return i

    def constant(self, node, j: int) -> bool:
        """A scalar that is the same wherever it is computed: a number, a module-level Python
        number (`SMOOTHING = 0.1`), or arithmetic of those."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
            return self.constant(node.left, j) and self.constant(node.right, j)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return self.constant(node.operand, j)
        if isinstance(node, ast.Name) and node.id not in self.lw.env and self.lw.context is not None:
            source = next((n for n in gast.walk(self.statements[j].node)
                           if isinstance(n, gast.Name) and n.id == node.id), None)
            fact = self.lw.context.free_fact(source) if source is not None else None
            return fact is not None and fact.kind is Kind.SCALAR and not fact.tensor
        return False

    def rebound_between(self, names, start: int, end: int) -> bool:
        return any(names & s.stores() for s in self.statements[start + 1:end + 1])

    def apply(self):
        """Write the changed statements back as edits; deleted ones lose their lines."""
        returns = {self.lw.source.span(node): i for i, (node, _) in enumerate(self.lw.out.returns)}
        for index, statement in enumerate(self.statements):
            if index in self.deleted:
                self.lw.out.edits.pop(statement.value_span, None)
                self.lw.out.edits[statement.span] = ""
            elif statement.changed:
                text = ast.unparse(statement.tree)
                self.lw.out.edits[statement.value_span] = text
                if statement.before:  # inserted at the start of its first line
                    indent = self.lw.source.indent_of_line(statement.node.lineno)
                    lines = "".join(f"{indent}{line}\n" for line in statement.before)
                    self.lw.out.edits[Span(statement.span.start, statement.span.start)] = lines
                if statement.value_span in returns:
                    node, value = self.lw.out.returns[returns[statement.value_span]]
                    value.text = text


def simplify(lw):
    """Apply the rules to the top-level statements of the function `lw` has lowered."""
    if not isinstance(lw.fn, gast.FunctionDef):
        return
    body = _Body(lw)
    for j, statement in enumerate(body.statements):
        if statement.tree is None or j in body.deleted:
            continue
        for rule in (_one_hot_then_cast, _narrower_draw, _softmax):
            rule(body, j)
    body.apply()


def _name(node) -> str | None:
    """The dotted name of an expression (`tf.random.normal`), or None."""
    return ast.unparse(node) if isinstance(node, (ast.Name, ast.Attribute)) else None


def _call(node, name: str) -> bool:
    return isinstance(node, ast.Call) and _name(node.func) == name


def _keyword(call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def _casts(tree):
    """The `tf.cast(value, dtype)` calls in a tree, as (call, value, dtype text)."""
    for node in ast.walk(tree):
        if _call(node, "tf.cast") and len(node.args) == 2 and not node.keywords:
            yield node, node.args[0], _name(node.args[1])


def _replace(tree, old, new):
    """`tree` with the node `old` replaced by `new` (the tree itself when it is `old`)."""
    if tree is old:
        return new
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
            elif isinstance(value, list) and any(v is old for v in value):
                setattr(parent, field, [new if v is old else v for v in value])
    return tree


# -- one_hot_then_cast ------------------------------------------------------------------------

def _one_hot_then_cast(body: _Body, j: int):
    """`cast(f(one_hot(i, n, dtype=d)), t)` with f arithmetic of the one-hot and constant
    scalars is `one_hot(i, n, on_value=cast(f(1), t), off_value=cast(f(0), t), dtype=t)`:
    every element of the one-hot is 1 or 0, so f gives f(1) or f(0) there, computed here in d
    as before and cast as before, so the values are the same bits. The steps of f may be
    earlier statements (`v = v * a + b`) whose value nothing else reads."""
    statement = body.statements[j]
    for cast, value, dtype in list(_casts(statement.tree)):
        if dtype not in _ONE_HOT_CASTS:
            continue
        spine = _one_hot_spine(body, value, j)
        if spine is None:
            continue
        one_hot, shape_of_f, folded = spine
        index, depth = one_hot.args
        source_dtype = _keyword(one_hot, "dtype")
        home = max(folded, default=j)  # where the new one-hot is computed
        inputs = {n.id for arg in (index, depth) for n in ast.walk(arg) if isinstance(n, ast.Name)}
        if body.rebound_between(inputs, min(folded, default=j), home):
            continue

        # f applied to [1, 0] in the one-hot's dtype: f(1) and f(0), element by element
        values = shape_of_f(ast.parse(f"tf.constant([1, 0], {ast.unparse(source_dtype)})", mode="eval").body)
        values_name = fresh_name("on_off", body.taken)
        values_lines = ["# the one-hot's on and off values, computed as the arithmetic computed them",
                        f"{values_name} = tf.cast({ast.unparse(values)}, {dtype})"]
        new = ast.parse(f"tf.one_hot({ast.unparse(index)}, {ast.unparse(depth)}, on_value={values_name}[0], "
                        f"off_value={values_name}[1], dtype={dtype})", mode="eval").body
        if not folded:
            statement.tree = _replace(statement.tree, cast, new)
            statement.before.extend(values_lines)
        else:
            last = body.statements[home]
            last.tree, last.changed = new, True
            last.before.extend(values_lines)
            statement.tree = _replace(statement.tree, cast, ast.Name(last.target, ast.Load()))
            body.deleted.update(i for i in folded if i != home)
        statement.changed = True
        return


def _one_hot_spine(body: _Body, node, j: int):
    """(the one_hot call, f as a function of a tree, the statements folded in) when `node`
    is arithmetic of one `tf.one_hot(i, n, dtype=d)` and constant scalars; else None."""
    if _call(node, "tf.one_hot") and len(node.args) == 2 and [k.arg for k in node.keywords] == ["dtype"]:
        return node, lambda x: x, []
    if isinstance(node, ast.Name):
        i = body.definition(node.id, j)
        if i is None:
            return None
        inner = _one_hot_spine(body, body.statements[i].tree, i)
        return None if inner is None else (inner[0], inner[1], inner[2] + [i])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _one_hot_spine(body, node.operand, j)
        if inner is None:
            return None
        one_hot, f, folded = inner
        return one_hot, lambda x: ast.UnaryOp(node.op, f(x)), folded
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
        for side, other in (("left", node.right), ("right", node.left)):
            if not body.constant(other, j):
                continue
            inner = _one_hot_spine(body, getattr(node, side), j)
            if inner is None:
                return None
            one_hot, f, folded = inner
            if side == "left":
                return one_hot, lambda x: ast.BinOp(f(x), node.op, other), folded
            return one_hot, lambda x: ast.BinOp(other, node.op, f(x)), folded
    return None


# -- narrower_draw ----------------------------------------------------------------------------

def _narrower_draw(body: _Body, j: int):
    """A float64 draw (`tf.random.normal(shape, mean=, stddev=, dtype=tf.float64)`, uniform
    alike, parameters constant scalars) that reaches `tf.cast(..., t)` for t float32 or float16
    only through + and - with `tf.cast(x, tf.float64)` of inputs x whose dtype is a float no
    wider than t, is drawn in t and the casts go. NumPy's draw is random: what the rewrite must
    keep is its distribution, and the float64 sum cast to t and the sum computed in t differ by
    t's rounding only. Any other operand (a product, a constant, an integer input) keeps the
    float64 draw."""
    statement = body.statements[j]
    for cast, value, dtype in list(_casts(statement.tree)):
        if dtype not in _NARROWER_FLOATS:
            continue
        found = _sum_with_draw(body, value, j, _NARROWER_FLOATS[dtype])
        if found is None:
            continue
        draw, draw_statement, widened = found
        for keyword in draw.keywords:
            if keyword.arg == "dtype":
                keyword.value = ast.parse(dtype, mode="eval").body
        for wide in widened:
            inner = wide.args[0]
            narrow = inner if body.lw.env[inner.id].dtype.name == dtype[3:] else \
                ast.Call(wide.func, [inner, ast.parse(dtype, mode="eval").body], [])
            statement.tree = _replace(statement.tree, wide, narrow)
        statement.tree = _replace(statement.tree, cast, value)
        statement.changed = True
        body.statements[draw_statement].changed = True
        return


def _sum_with_draw(body: _Body, node, j: int, itemsize: int):
    """(the draw call, the index of its statement, the widening casts) when `node` is a sum
    or difference of one float64 draw and widened inputs no wider than `itemsize`."""
    draws, widened = [], []

    def visit(node) -> bool:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            return visit(node.left) and visit(node.right)
        if isinstance(node, ast.Name):
            i = body.definition(node.id, j)
            if i is None or not _is_draw(body, body.statements[i].tree, i):
                return False
            draws.append((body.statements[i].tree, i))
            return True
        if _is_draw(body, node, j):
            draws.append((node, j))
            return True
        if _call(node, "tf.cast") and len(node.args) == 2 and _name(node.args[1]) == "tf.float64" \
                and isinstance(node.args[0], ast.Name):
            name = node.args[0].id
            fact = body.lw.env.get(name)
            if fact is None or fact.kind is not Kind.ARRAY or fact.dtype is None or fact.dtype.kind != "f" \
                    or fact.dtype.itemsize > itemsize or any(name in s.stores() for s in body.statements):
                return False
            widened.append(node)
            return True
        return False

    if not visit(node) or len(draws) != 1:
        return None
    return draws[0][0], draws[0][1], widened


def _is_draw(body: _Body, node, at: int) -> bool:
    if not (isinstance(node, ast.Call) and _name(node.func) in _DRAWS and len(node.args) == 1):
        return False
    if _name(_keyword(node, "dtype")) != "tf.float64":
        return False
    return all(body.constant(k.value, at) for k in node.keywords if k.arg in _DRAW_PARAMETERS)


# -- softmax ----------------------------------------------------------------------------------

def _softmax(body: _Body, j: int):
    """`e / sum(e, axis, keepdims=True)` with `e = exp(z - np_max(z, axis, keepdims=True))`,
    `axis` one axis and each name read only there, is `numpy_softmax(z, axis)`: tf.nn.softmax,
    one fused op, with NumPy's all-NaN slices (see the helper)."""
    statement = body.statements[j]
    for node in ast.walk(statement.tree):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.left, ast.Name)
                and _call(node.right, "tf.reduce_sum") and len(node.right.args) == 1
                and isinstance(node.right.args[0], ast.Name) and node.right.args[0].id == node.left.id):
            continue
        at = body.definition(node.left.id, j, uses=2)
        if at is None or not (_call(body.statements[at].tree, "tf.exp") and len(body.statements[at].tree.args) == 1):
            continue
        folded, shifted = [at], body.statements[at].tree.args[0]
        if isinstance(shifted, ast.Name):
            at = body.definition(shifted.id, at)
            if at is None:
                continue
            folded.append(at)
            shifted = body.statements[at].tree
        if not (isinstance(shifted, ast.BinOp) and isinstance(shifted.op, ast.Sub)
                and _call(shifted.right, "__rw_np_max") and len(shifted.right.args) == 1
                and isinstance(shifted.left, ast.Name) and ast.dump(shifted.right.args[0]) == ast.dump(shifted.left)
                and _over_one_axis(shifted.right, node.right)
                and not body.rebound_between({shifted.left.id}, min(folded), j)):
            continue
        axis = ast.unparse(_keyword(node.right, "axis"))
        softmax = ast.parse(f"__rw_numpy_softmax({shifted.left.id}, axis={axis})", mode="eval").body
        statement.tree, statement.changed = _replace(statement.tree, node, softmax), True
        body.deleted.update(folded)
        return


def _over_one_axis(max_call, sum_call) -> bool:
    """Both reduce over the same one axis (an int) with `keepdims=True`."""
    keywords = {k.arg: ast.dump(k.value) for k in max_call.keywords}
    if keywords != {k.arg: ast.dump(k.value) for k in sum_call.keywords} or set(keywords) != {"axis", "keepdims"}:
        return False
    axis, keepdims = _keyword(max_call, "axis"), _keyword(max_call, "keepdims")
    if isinstance(axis, ast.UnaryOp) and isinstance(axis.op, ast.USub):
        axis = axis.operand
    return isinstance(axis, ast.Constant) and type(axis.value) is int \
        and isinstance(keepdims, ast.Constant) and keepdims.value is True
