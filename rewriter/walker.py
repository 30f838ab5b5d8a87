"""Stage 4 — lower: the body of a NumPy function, rewritten expression by expression to TF.

The lowering walks statements in order with an environment of facts (dtype, rank, constant
value, aliasing) and produces span edits: only expressions whose meaning changes are
re-rendered, from the pattern's template over the *original text* of their arguments, so
comments and formatting around them survive. Anything it cannot lower faithfully raises
`Refusal` with the node and the reason; the caller leaves the site unchanged and reports it.

This module walks the statements; expressions and operators are its two mixins
(`expressions.py`, `operators.py`). Calls, subscripts, in-place updates and the loop forms
the vectorizer rewrites are reached through the `handlers` table, which their modules fill
when imported: use `FunctionLowering` from `rewriter.lower`, which imports them all.
"""
from __future__ import annotations

import gast
import numpy as np

from . import facts as F
from . import peephole
from .autograph_limits import (breaks, check_converts, check_no_python_number_carried, check_no_return_under,
                               on_tensor, returns_under)
from .expressions import ExpressionLowering
from .facts import Fact, Kind
from .handlers import LOOP_FORMS, lowering
from .loops import why_kept
from .lowered import Inconsistent, Lowered, LoweredFunction, Refusal
from .operators import OperatorLowering, op_text
from .parse import SourceMap, Span
from .registry import Registry
from .resolve import Resolver


class FunctionLowering(ExpressionLowering, OperatorLowering):
    """Lowers one function body under one assignment of facts to its parameters."""

    def __init__(self, fn, source: SourceMap, resolver: Resolver, registry: Registry,
                 params: dict, context=None, scope=None):
        self.fn = fn
        self.source = source
        self.resolver = resolver
        self.registry = registry
        self.env: dict = dict(params)
        self.aliased: set = set()
        self.context = context
        """What the caller knows beyond the source (the decorator knows live values): an
        object with `free_fact(name_node) -> Fact | None` and `convert_call(lowering, node) ->
        Lowered | None` for calls of user functions."""
        self.scope = scope or self
        """The lowering of the function whose statements these are: lowerings of parts of it
        (a lifted expression, a lambda's body, a scan step) share it, so the nested defs it
        defines are rewritten once, in its edits."""
        self.nested_calls: dict = {}  # nested def -> {call node: its body's edits} (nested.py)
        self.loop_depth = 0
        self.python_loops: list = []
        """For each loop around the statement being lowered, innermost last: whether it runs in
        Python when traced (AutoGraph unrolls it), where no `break` may hang on a tensor."""
        self.out = LoweredFunction()

    # -- statements --------------------------------------------------------------------

    def run(self) -> LoweredFunction:
        if isinstance(self.fn, gast.Lambda):
            value = self.expr(self.fn.body)
            self._edit(self.fn.body, value)
            self.out.returns.append((self.fn.body, value))
        else:
            self.block(self.fn.body)
            peephole.simplify(self)
            if self.out.graph_branches and self is self.scope:
                check_converts(self.fn)
        return self.out

    def block(self, statements):
        for statement in statements:
            self.statement(statement)
            if self._is_self_assignment(statement) and len(statements) > 1:
                self._delete_line(statement)

    def _is_self_assignment(self, node) -> bool:
        """`x = x.numpy()` lowers to `x = x`: a line the rewrite can drop."""
        if not (isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name)):
            return False
        span = self.source.span(node.value)
        return self.out.edits.get(span, "").strip() == node.targets[0].id

    def _delete_line(self, node):
        start = self.source.line_starts[node.lineno - 1]
        end = self.source.line_starts[node.end_lineno]
        line = self.source.text[start:end]
        if line.strip() != self.source.segment(node).strip():
            return  # shares its line with other code: keep the harmless `x = x`
        self.out.edits.pop(self.source.span(node.value), None)
        self.out.edits[Span(start, end)] = ""

    def statement(self, node):
        handler = getattr(self, "stmt_" + type(node).__name__, None)
        if handler is None:
            raise Refusal(node, f"`{type(node).__name__.lower()}` statements are not rewritten")
        handler(node)

    def stmt_Expr(self, node):
        if isinstance(node.value, gast.Constant) and isinstance(node.value.value, str):
            return  # docstring
        self._edit(node.value, self.expr(node.value))

    def stmt_Pass(self, node):
        pass

    def stmt_FunctionDef(self, node):
        lowering("functiondef")(self, node)  # nested.define

    def stmt_Return(self, node):
        if node.value is None:
            raise Refusal(node, "a bare `return` gives no output")
        value = self.expr(node.value)
        self._edit(node.value, value)
        self.out.returns.append((node.value, value))

    def stmt_Assign(self, node):
        if len(node.targets) == 1 and isinstance(node.targets[0], gast.Subscript):
            return self._setitem(node, node.targets[0], self.expr(node.value))
        value = self._unpacked(node, self.expr(node.value))
        self._edit(node.value, value)
        for target in node.targets:
            self.bind(target, value.fact)
        self._note_aliases(node, value)

    def _note_aliases(self, node, value):
        """Names that may now share an array. A view (`y = x.reshape(...)`, `y = x[1:]`) shares
        with every array name in its expression; `b = c = a`, `b, c = a, a` and
        `b = a if k else c` share their bare names. An in-place update of any of them is refused,
        since the others would not see it in TF."""
        targets = {n.id for t in node.targets for n in gast.walk(t) if isinstance(n, gast.Name)}
        arrays = {name for name, fact in self.env.items() if fact is not None and fact.kind is Kind.ARRAY}
        shared = set(_bare_names(node.value)) & arrays
        if value.fact.kind is Kind.ARRAY and not value.fact.fresh:
            shared |= {n.id for n in gast.walk(node.value) if isinstance(n, gast.Name)} & arrays
        if len(node.targets) > 1 and value.fact.kind in (Kind.ARRAY, Kind.TUPLE):
            shared |= targets
        if shared:
            self.aliased.update(shared | targets)

    def stmt_AnnAssign(self, node):
        if node.value is None:
            return
        value = self.expr(node.value)
        self._edit(node.value, value)
        self.bind(node.target, value.fact)

    def _unpacked(self, node, value: Lowered) -> Lowered:
        """`h, w = img.shape[:2]` and `dy, dx = deltas.T`: unpacking a tensor iterates over it,
        which graph mode forbids; `tf.unstack` with the count of names does it instead."""
        targets = node.targets[0] if len(node.targets) == 1 else None
        if not isinstance(targets, (gast.Tuple, gast.List)) or value.fact.kind not in (Kind.SHAPE, Kind.ARRAY):
            return value
        count = len(targets.elts)
        if value.fact.kind is Kind.SHAPE:
            item = F.shape_value()
        elif value.fact.rank:
            item = value.fact.with_(rank=value.fact.rank - 1, fresh=False)
        else:
            raise Refusal(node, "unpacking an array of unknown rank is not rewritten")
        return Lowered(f"tf.unstack({value.text}, num={count})", F.constant(tuple([item] * count)), True)

    def _setitem(self, node, target, value, op=None):
        held = self.env.get(target.value.id) if isinstance(target.value, gast.Name) else None
        if held is not None and held.eager:
            raise Refusal(node, "assignment into a TensorFlow result: TF tensors have no item assignment")
        text = lowering("setitem")(self, node, target, value, op)  # inplace.lower_setitem
        self.out.edits[self.source.span(node)] = text
        name = target.value.id
        self.env[name] = self.env[name].with_(fresh=True)

    def stmt_AugAssign(self, node):
        if isinstance(node.target, gast.Subscript):
            return self._setitem(node, node.target, self.expr(node.value), node.op)
        if not isinstance(node.target, gast.Name):
            raise Refusal(node, "in-place update of an attribute is not rewritten")
        name = node.target.id
        old = self.env.get(name)
        if old is None:
            raise Refusal(node, f"`{name}` is not defined before `{name} {op_text(node.op)}=`")
        if old.kind is Kind.ARRAY and not old.eager and (name in self.aliased or not old.fresh):
            raise Refusal(node, f"`{name}` may be shared with other names; its in-place update "
                                "would not be seen by them in TF")
        target = Lowered(name, old)
        value = self.binop(node, node.op, target, self.expr(node.value))
        if old.kind is Kind.ARRAY and not value.fact.eager and value.fact.dtype != old.dtype:
            # NumPy's in-place ops keep the array's dtype (same-kind casting only). With a TF
            # tensor on either side NumPy defers to TF's operator, which rebinds the name.
            if not np.can_cast(value.fact.dtype, old.dtype, casting="same_kind"):
                raise Inconsistent(f"NumPy refuses to cast {value.fact.dtype} into {old.dtype} in place")
            value = Lowered(f"tf.cast({value.text}, {F.tf_name(old.dtype)})", old, True)
        if value.changed:
            self.out.edits[self.source.span(node)] = f"{name} = {value.text}"
        self.env[name] = value.fact.with_(fresh=True) if value.fact.kind is Kind.ARRAY else value.fact

    def stmt_If(self, node):
        test = self.expr(node.test)
        taken = self.static_type_check(node.test, test)
        if taken is not None:
            return self._static_if(node, node.body if taken else node.orelse)
        self._edit(node.test, test)
        self.note_graph_branch(node, "`if`", test.fact)
        before = dict(self.env)
        self.block(node.body)
        after_body = self.env
        self.env = dict(before)
        self.block(node.orelse)
        self.env = merge(after_body, self.env)
        if on_tensor(test.fact):
            check_no_python_number_carried(self.env, node, node.body + node.orelse, "an `if`")
            if self.loop_depth or node not in self.fn.body:
                check_no_return_under(node)
            elif returns_under(node):  # compiles at the top level, not nested in a dispatch's branch
                self.scope.out.returns_under_graph_branch = True
            if self.python_loops and self.python_loops[-1] and breaks(node.body + node.orelse):
                raise Refusal(node, "a `break` on a tensor's value in a loop that runs in Python when traced: "
                                    "AutoGraph does not compile it (NotImplementedError)", "RW208")

    def _static_if(self, node, live):
        """An `if` whose test is a type check known when the rewrite is made (a py_function's
        input has `.numpy()`, a numpy_function's does not): the statements of the branch the
        original takes replace the `if`, dedented; the other branch is dropped unlowered."""
        self._check_liftable(node, live)
        self.block(live)
        source, edits = self.source, self.out.edits
        kept = [s for s in live if not self._dropped(s)]
        start, end = source.line_starts[node.lineno - 1], source.line_starts[node.end_lineno]
        if not kept:
            self._replace_lines(Span(start, end), f"{source.indent_of_line(node.lineno)}pass\n"
                                if self._alone(node) else "")
            return
        first, last = self._lines(kept[0]).start, self._lines(kept[-1]).end
        self._replace_lines(Span(start, first), "")
        if last < end:
            self._replace_lines(Span(last, end), "")
        for statement in live[live.index(kept[0]):live.index(kept[-1]) + 1]:
            if statement not in kept:
                edits[self._lines(statement)] = ""
        depth = len(source.indent_of_line(kept[0].lineno)) - len(source.indent_of_line(node.lineno))
        for lineno in range(kept[0].lineno, kept[-1].end_lineno + 1):
            line, text = source.line_starts[lineno - 1], source.lines[lineno - 1]
            deleted = Span(line, source.line_starts[lineno]) in edits
            if not deleted and len(text) > depth and not text[:depth].strip(" \t"):
                edits[Span(line, line + depth)] = ""

    def _replace_lines(self, lines: Span, text: str):
        """Replace whole lines, and with them the edits inside (lines `block` dropped)."""
        for span in [s for s in self.out.edits if lines.start <= s.start and s.end <= lines.end]:
            del self.out.edits[span]
        self.out.edits[lines] = text

    def _lines(self, statement) -> Span:
        return Span(self.source.line_starts[statement.lineno - 1], self.source.line_starts[statement.end_lineno])

    def _dropped(self, statement) -> bool:
        """`x = x.numpy()`, lowered to `x = x`: nothing to keep (`block` deletes its line in a
        longer branch; alone, its edit is taken back here)."""
        if self.out.edits.get(self._lines(statement)) == "":
            return True
        if self._is_self_assignment(statement):
            self.out.edits.pop(self.source.span(statement.value))
            return True
        return False

    def _check_liftable(self, node, live):
        """Only simple statements, each on lines of its own, are moved out of the `if`."""
        for statement in live:
            if not isinstance(statement, SIMPLE_STATEMENTS):
                raise Refusal(statement, "the branch a type check keeps holds a compound statement: not "
                                         "rewritten")
            line = self.source.lines[statement.lineno - 1]
            if line.lstrip().startswith("elif") or line[:statement.col_offset].strip():
                raise Refusal(statement, "the branch a type check keeps shares a line with its header: "
                                         "not rewritten")
            if any(isinstance(n, gast.Constant) and isinstance(n.value, str) and n.lineno != n.end_lineno
                   for n in gast.walk(statement)):
                raise Refusal(statement, "a string over several lines in the branch a type check keeps "
                                         "is not rewritten")

    def _alone(self, node) -> bool:
        """Whether `node` is the only statement of its block (removing it needs a `pass`)."""
        for parent in gast.walk(self.fn):
            for block in (getattr(parent, "body", None), getattr(parent, "orelse", None)):
                if isinstance(block, list) and node in block:
                    return len(block) == 1
        return False

    def stmt_For(self, node):
        if any(lowering(form)(self, node) for form in LOOP_FORMS):
            return  # rewritten as a whole by one of the LOOP_FORMS modules
        iterable = self.expr(node.iter)
        self._edit(node.iter, iterable)
        if node.orelse:
            raise Refusal(node, "`for ... else` is not rewritten")
        traced = on_tensor(iterable.fact)  # AutoGraph makes it a while loop; else it runs in Python
        self._note_kept_loop(node, in_python=not traced)
        self.note_graph_branch(node, "`for`", iterable.fact)
        before = dict(self.env)
        self.python_loops.append(not traced)
        try:
            self._loop(node.body, lambda: self.bind(node.target, element_of(iterable.fact)))
        finally:
            self.python_loops.pop()
        if traced:
            check_no_python_number_carried(self.env, node, node.body, "a `for` loop")
            self._carried_as_tensors(node, before)

    def _note_kept_loop(self, loop, in_python):
        """Say why a loop stays a loop (the vectorizer's forms did not apply), unless a form
        that knew the loop better has said it already."""
        said = f"line {loop.lineno}: loop kept: "
        if not any(note.startswith(said) for note in self.out.notes):
            self.out.notes.append(said + why_kept(loop, self.env, in_python))

    def _carried_as_tensors(self, loop, before):
        """AutoGraph turns a loop over a tensor into a while loop, whose carried values must
        keep one dtype: a Python number the body turns into a tensor starts as that tensor."""
        lines = []
        indent = self.source.indent_of_line(loop.lineno)
        for name, old in before.items():
            new = self.env.get(name)
            if old.kind is not Kind.SCALAR or old.tensor or new is None or new == old:
                continue
            dtype = new.dtype if new.kind in (Kind.ARRAY, Kind.SCALAR) else None
            if dtype is None or (new.kind is Kind.ARRAY and new.rank != 0):
                raise Refusal(loop, f"`{name}` changes from a Python number to a tensor of unknown dtype or "
                                    "shape in a loop that AutoGraph compiles", "RW208")
            lines.append(f"{indent}{name} = tf.constant({name}, {F.tf_name(dtype)})\n")
        if lines:
            start = self.source.line_starts[loop.lineno - 1]
            self.out.edits[Span(start, start)] = "".join(lines)

    def stmt_While(self, node):
        if node.orelse:
            raise Refusal(node, "`while ... else` is not rewritten")
        self._note_kept_loop(node, in_python=False)
        tests = []

        def test():
            value = self.expr(node.test)
            self._edit(node.test, value)
            self.note_graph_branch(node, "`while`", value.fact)
            tests.append(value.fact)
            self.python_loops[-1] = not on_tensor(value.fact)

        before = dict(self.env)
        self.python_loops.append(True)
        try:
            self._loop(node.body, test)
        finally:
            self.python_loops.pop()
        if any(on_tensor(fact) for fact in tests):
            check_no_python_number_carried(self.env, node, node.body, "a `while` loop")
            self._carried_as_tensors(node, before)

    def note_graph_branch(self, node, what: str, *facts):
        """Record a branch or loop on a tensor (the rewrite holds `facts` as tensors), which
        only AutoGraph compiles (`LoweredFunction.graph_branches`)."""
        if any(on_tensor(f) for f in facts):
            said = f"line {node.lineno}: {what} on a tensor"
            if said not in self.scope.out.graph_branches:
                self.scope.out.graph_branches.append(said)

    def _loop(self, body, start_iteration):
        """Lower a loop body until the facts of the names it rebinds stop changing."""
        self.loop_depth += 1
        try:
            self._loop_to_fixpoint(body, start_iteration)
        finally:
            self.loop_depth -= 1

    def _loop_to_fixpoint(self, body, start_iteration):
        for _ in range(3):
            before = dict(self.env)
            start_iteration()
            self.block(body)
            merged = merge(before, self.env)
            if merged == before:
                self.env = merged
                return
            self.env = merged
        raise Refusal(body[0], "the loop changes the dtype of a value on every iteration")

    def stmt_Break(self, node):
        pass

    def stmt_Continue(self, node):
        pass

    def bind(self, target, fact: Fact):
        if isinstance(target, gast.Name):
            self.env[target.id] = fact
        elif isinstance(target, (gast.Tuple, gast.List)):
            if fact.kind is not Kind.TUPLE or len(fact.items) != len(target.elts):
                raise Refusal(target, "cannot tell how many values are unpacked here")
            for element, item in zip(target.elts, fact.items):
                self.bind(element, item)
        else:
            raise Refusal(target, "assignment into an element or attribute is not rewritten yet")


SIMPLE_STATEMENTS = (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.Expr, gast.Return, gast.Pass)


def _bare_names(node):
    """Names an expression may hand over as they are (not through a computation)."""
    if isinstance(node, gast.Name):
        yield node.id
    elif isinstance(node, (gast.Tuple, gast.List)):
        for element in node.elts:
            yield from _bare_names(element)
    elif isinstance(node, gast.IfExp):
        yield from _bare_names(node.body)
        yield from _bare_names(node.orelse)
    elif isinstance(node, gast.Starred):
        yield from _bare_names(node.value)


def element_of(fact: Fact) -> Fact:
    """Fact of the loop variable when iterating over a value."""
    if fact.kind is Kind.ARRAY and fact.rank:
        return fact.with_(rank=fact.rank - 1, fresh=False)
    if fact.kind is Kind.OTHER and fact.value == "range":
        return Fact(Kind.SCALAR, pytype=int, tensor=fact.tensor)
    if fact.kind is Kind.TUPLE and fact.items and all(i == fact.items[0] for i in fact.items):
        return fact.items[0]
    return fact.with_(value=F.UNKNOWN) if fact.kind is Kind.SCALAR else F.OTHER


def merge(a: dict, b: dict) -> dict:
    """Facts after two control-flow paths meet: agreement survives, disagreement is vague."""
    out = {}
    for name in a.keys() | b.keys():
        x, y = a.get(name), b.get(name)
        if x == y:
            out[name] = x if x is None or x.eager == y.eager else x.with_(eager=None, dtype=None)
        elif x is None or y is None:
            out[name] = x or y
        elif x.kind is y.kind is Kind.ARRAY:
            # an array either way: of an unknown dtype when the paths disagree, or when it is a
            # TF tensor on one path only (what needs the dtype is then refused, never left as
            # NumPy code on a tensor)
            out[name] = x.with_(rank=x.rank if x.rank == y.rank else None, fresh=x.fresh and y.fresh,
                                dtype=x.dtype if x.dtype == y.dtype and x.eager == y.eager else None,
                                eager=x.eager if x.eager == y.eager else None)
        elif x.kind is y.kind is Kind.SCALAR and x.pytype is y.pytype and (
                x.dtype is None or y.dtype is None or x.dtype == y.dtype):
            out[name] = x.with_(value=F.UNKNOWN, tensor=x.tensor or y.tensor, dtype=x.dtype or y.dtype)
        elif {x.kind, y.kind} == {Kind.SCALAR, Kind.ARRAY}:
            # An accumulator that starts as a Python number and becomes an array: NumPy's
            # weak scalars take the array's dtype, so the dtype holds; the rank may not.
            array, scalar = (x, y) if x.kind is Kind.ARRAY else (y, x)
            promoted = F.evaluate_numpy(np.add, (array, scalar), {})
            same = promoted is not None and promoted.dtype == array.dtype
            rank = 0 if array.rank == 0 else None  # a Python number is 0-d too
            out[name] = array.with_(rank=rank, fresh=True) if same else Fact(Kind.OTHER)
        else:
            out[name] = Fact(Kind.OTHER)
    return out
