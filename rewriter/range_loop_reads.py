"""The state of one `for i in tf.range(...)` loop's rewrite, and what a step expression reads.

`StepReads` holds what the analysis finds (the step's temporaries, folds and TensorArray
writes) and checks that a step's value is elementwise in the counter, in rows of tensors read
at the counter and in tensors the loop does not change. The emission (range_loop_emit) and the
statement analysis (range_loop_steps) build on it, in that order.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import gast

from .edits import names_in
from .lower import Refusal
from .range_loop_syntax import constant_index, stored_names
from .vectorize import _TF_ELEMENTWISE

_STEP_CALLS = _TF_ELEMENTWISE | frozenset(f"tensorflow.{name}" for name in (
    "bitwise.bitwise_and bitwise.bitwise_or bitwise.bitwise_xor bitwise.invert bitwise.left_shift "
    "bitwise.right_shift logical_and logical_or math.logical_and math.logical_or math.logical_xor "
    "equal not_equal greater greater_equal less less_equal math.equal math.not_equal math.greater "
    "math.greater_equal math.less math.less_equal").split())


_ROW_REDUCTIONS = frozenset(f"tensorflow.{prefix}reduce_{op}" for prefix in ("", "math.")
                            for op in ("sum", "mean", "max", "min", "prod", "any", "all"))
"""Reductions of a whole step's row: over all the steps, the same over every axis but the first."""
_HELPER_DEPTH = 4
"""Helpers calling helpers: how deep a step's calls are followed (a recursive one stops there)."""


@dataclass
class _Leaves:
    """What a step expression reads: the counter, rows of one tensor at the counter, tensors
    that do not change over the steps."""

    counter: bool = False
    reads: dict = field(default_factory=dict)      # (tensor, rest of the index) -> a Name node
    invariants: dict = field(default_factory=dict)  # name -> a Name node
    clipped: bool = False                           # tf.clip_by_value: its result has its first shape
    reduced: bool = False                           # a whole-row reduction: one number per step
    bare: bool = False                              # rows read outside any such reduction


class StepReads:
    """The loop, its range, and what one step computes (filled in by range_loop_steps.Steps)."""

    def __init__(self, loop, counter, scope, module, resolver, steps, count):
        self.loop, self.counter, self.scope = loop, counter, scope
        self.module, self.resolver = module, resolver
        self.steps, self.count = steps, count   # see range_loops._step_range
        self.temps: dict = {}        # name -> value node (inlined where used)
        self.folds: dict = {}        # name -> range_loop_steps._Fold
        self.writes: list = []       # (TensorArray name, step value node) for values of the step
        self.taken = names_in(module.tree)
        self.helper_depth = 0        # same-file helpers being followed (see _leaves)
        self.reductions: set = set()  # how the step's whole-row reductions are spelled (`tf.reduce_mean`)
        self.indent = module.source.indent_of_line(loop.lineno)
        self.unit = module.source.indent_of_line(loop.body[0].lineno)[len(self.indent):] or "    "
    def _same_value(self, a, b) -> bool:
        """The same expression over the same definitions of every name (nothing rebinds them)."""
        if gast.dump(a) != gast.dump(b):
            return False
        names_a = [n for n in gast.walk(a) if isinstance(n, gast.Name)]
        names_b = [n for n in gast.walk(b) if isinstance(n, gast.Name)]
        return all(set(map(id, self.resolver.definitions(x))) == set(map(id, self.resolver.definitions(y)))
                   and self.resolver.definitions(x) for x, y in zip(names_a, names_b))

    def _leaves(self, node, leaves=None, bound=None) -> _Leaves:
        """Check that a step expression is elementwise in what it reads, and say what that is.
        `bound`: inside a same-file helper the step calls, its parameters -> (argument node,
        the `bound` of the argument's own scope); the helper may read nothing else."""
        leaves = leaves if leaves is not None else _Leaves()
        if bound is not None and isinstance(node, (gast.Name, gast.Subscript)):
            if not (isinstance(node, gast.Name) and node.id in bound):
                raise Refusal(node, f"`{self.module.source.segment(node)}` in a helper the step calls is not one "
                                    "of its parameters", "RW312")
            argument, outer = bound[node.id]
            self._leaves(argument, leaves, outer)
        elif isinstance(node, gast.Name):
            if node.id == self.counter:
                leaves.counter = True
            elif node.id in self.temps:
                self._leaves(self.temps[node.id], leaves)
            else:
                leaves.invariants.setdefault(node.id, node)
        elif isinstance(node, gast.Constant):
            if not isinstance(node.value, (int, float)):
                raise Refusal(node, "a value of the step is not a number", "RW312")
        elif isinstance(node, gast.Subscript) and self._read(node) is not None:
            leaves.reads.setdefault(self._read(node), node.value)
            leaves.bare = True
        elif isinstance(node, gast.Call) and self._row_reduction(node):
            if bound is not None:  # called on all the rows, it would reduce all of them
                raise Refusal(node, "a helper the step calls reduces its rows", "RW317")
            inner = self._leaves(node.args[0], None, bound)
            if inner.counter or inner.invariants or inner.reduced or any(rest for _, rest in inner.reads):
                raise Refusal(node, f"`{self.module.source.segment(node)}` reduces more than rows read at the "
                                    "loop counter", "RW317")
            leaves.reads.update((key, value) for key, value in inner.reads.items() if key not in leaves.reads)
            leaves.reduced = True
            self.reductions.add(self.module.source.segment(node.func))
        elif isinstance(node, gast.BinOp) and not isinstance(node.op, gast.MatMult):
            self._leaves(node.left, leaves, bound)
            self._leaves(node.right, leaves, bound)
        elif isinstance(node, gast.UnaryOp) and not isinstance(node.op, gast.Not):
            self._leaves(node.operand, leaves, bound)
        elif isinstance(node, gast.Compare) and len(node.ops) == 1:
            self._leaves(node.left, leaves, bound)
            self._leaves(node.comparators[0], leaves, bound)
        elif isinstance(node, gast.Call) and self._elementwise_call(node):
            name = self.resolver.qualname(node.func)
            leaves.clipped |= name == "tensorflow.clip_by_value"
            args = node.args[:1] if name in ("tensorflow.cast", "tensorflow.dtypes.cast") else node.args
            for part in [*args, *(k.value for k in node.keywords if k.arg not in ("dtype", "name"))]:
                self._leaves(part, leaves, bound)
        elif isinstance(node, gast.Call) and self._helper_return(node) is not None:
            if self.helper_depth >= _HELPER_DEPTH:
                raise Refusal(self.loop, "the helpers the step calls nest too deeply", "RW312")
            helper = self.resolver.function_def(node.func)
            arguments = {p.id: (a, bound) for p, a in zip(helper.args.args, node.args)}
            self.helper_depth += 1
            try:
                self._leaves(self._helper_return(node), leaves, arguments)
            finally:
                self.helper_depth -= 1
        else:
            raise Refusal(node, f"`{self.module.source.segment(node)}` is not elementwise in the loop counter "
                                "and rows read at it", "RW312")
        return leaves

    def _elementwise_call(self, node) -> bool:
        name = self.resolver.qualname(node.func)
        if name not in _STEP_CALLS or any(k.arg is None for k in node.keywords):
            return False
        return not (name.endswith("where") and len(node.args) + len(node.keywords) != 3)

    def _row_reduction(self, node) -> bool:
        """`tf.reduce_mean(e)` of one positional argument: the whole of each step's row."""
        return self.resolver.qualname(node.func) in _ROW_REDUCTIONS and len(node.args) == 1 \
            and not node.keywords and not isinstance(node.args[0], gast.Starred)

    def _helper_return(self, node):
        """The returned expression of a same-file helper called with one positional argument
        per parameter, when its body is that one `return` (else None). Called on the stacked
        rows, an elementwise body gives each step's value in its row."""
        helper = self.resolver.function_def(node.func)
        if not isinstance(helper, gast.FunctionDef) or helper is self.scope or node.keywords:
            return None
        body = [s for s in helper.body if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
        params = helper.args
        if params.vararg or params.kwarg or params.kwonlyargs or params.posonlyargs or helper.decorator_list \
                or len(params.args) != len(node.args) or any(isinstance(a, gast.Starred) for a in node.args):
            return None
        if len(body) != 1 or not isinstance(body[0], gast.Return) or body[0].value is None:
            return None
        return body[0].value

    def _read(self, node):
        """`x[i]` or `x[i, <constant index>...]` of a tensor the loop does not change: the key
        (name, rest of the index) of rows read at the counter; None for anything else."""
        if not isinstance(node.value, gast.Name) or node.value.id in self.temps or node.value.id == self.counter \
                or node.value.id in stored_names(self.loop.body):
            return None
        parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if not (isinstance(parts[0], gast.Name) and parts[0].id == self.counter):
            return None
        if not all(constant_index(p) for p in parts[1:]):
            return None
        return node.value.id, ", ".join(self.module.source.segment(p) for p in parts[1:])
