"""The lines that replace a `for i in tf.range(...)` loop once its body is analysed: every step at
once, one row per step.

A TensorArray written each step gets `unstack` of all the rows; a fold's final value comes from
`tf.reduce_sum` or an exact pairwise tree fold, and its running values from `tf.cumsum`, an
exact blocked scan (max, min, and, or) or an exact log-step doubling scan (xor). Rows of a tensor read at the counter are sliced to the steps,
after a check that fails where the loop would read past the last row.
"""
from __future__ import annotations

import ast

from . import helper_source
from .edits import fresh_name
from .lower import Refusal
from .range_loop_reads import StepReads
from .range_loop_syntax import expression, read_outside, read_rank, rows_of, same_index

SCAN_BLOCK = 8
"""Rows per block of the blocked scan. Measured on the corpus cummax (1024 x 512 float32,
dynamic length): blocks of 8 and 16 run alike, 4 slower."""

class StackedSteps(StepReads):
    """All the steps at once: `_emit` writes the replacement of an analysed loop."""

    def _emit(self) -> str:
        lines: list = []
        guarded: set = set()
        for fold in self.folds.values():
            if fold.written:
                values = self._scan(fold, lines, guarded)
                for array in fold.written:
                    lines.append(f"{array} = {array}.unstack({values})")
        for array, value in self.writes:
            lines.append(f"{array} = {array}.unstack({self._all_steps(value, lines, guarded)})")
        for fold in self.folds.values():
            if not fold.written or read_outside(self.loop, fold.name, self.scope):
                self._final(fold, lines, guarded)
        return "".join(f"{self.indent}{line}\n" for line in lines)

    def _scan(self, fold, lines, guarded) -> str:
        """The running values of a fold: one row per step."""
        steps = self._all_steps(fold.value, lines, guarded)
        scan = self._fresh(f"{fold.name}_scan")
        if fold.op in ("+", "-"):
            lines.append(f"{scan} = tf.cumsum({steps}, axis=0)")
        elif fold.op == "xor":
            self._doubling(fold, scan, steps, lines)
        else:
            return self._blocked_scan(fold, scan, steps, lines)
        return fold.combine(fold.name, self._aligned(fold, scan, lines))

    def _doubling(self, fold, scan, steps, lines):
        """Log-step doubling: after k rounds each row holds the op over the 2**k rows ending at
        it. The rows `shift` before come from a gather, which keeps the shape fixed from round
        to round (XLA compiles the While op that a shape known only at run time makes; slices
        of length `shift` it cannot)."""
        shift, length = self._fresh(f"{fold.name}_shift"), self._fresh(f"{fold.name}_length")
        row = self._fresh(f"{fold.name}_row")
        combined = fold.combine(f"tf.gather({scan}, tf.maximum({row} - {shift}, 0))", scan)
        # the first `shift` rows have none before them: kept as they are
        first = f"tf.reshape({row} < {shift}, tf.concat([[-1], tf.ones([tf.rank({scan}) - 1], tf.int32)], 0))"
        lines += [f"{scan} = {steps}", self._length_line(length, scan), f"{shift} = 1",
                  f"{row} = tf.range({length})",
                  f"while {shift} < {length}:",
                  f"{self.unit}{scan} = tf.where({first}, {scan}, {combined})",
                  f"{self.unit}{shift} *= 2"]

    def _blocked_scan(self, fold, scan, steps, lines) -> str:
        """Running values of max, min, and, or: ops for which a value met twice changes
        nothing, so windows may overlap. Doubling rounds give each row the op over the
        SCAN_BLOCK rows ending at it (the first rows meet row 0, which they already hold); the
        rows ending a whole block then hold that block's value, and doubling rounds over those
        (SCAN_BLOCK times fewer rows) give each block the value of all rows up to its end. A
        row then meets the value up to the end of the block before its own (row 0's in the
        first block) and the fold's value before the loop. log2(SCAN_BLOCK) + 1 rounds over
        all the rows instead of log2(steps). Each operand keeps the loop's order, so ties of
        max and min resolve, and their gradients flow, as in the loop."""
        block = SCAN_BLOCK
        shifts = ", ".join(str(2 ** k) for k in range(block.bit_length() - 1))  # 1, 2, 4
        shift, length = self._fresh(f"{fold.name}_shift"), self._fresh(f"{fold.name}_length")
        row, ends = self._fresh(f"{fold.name}_row"), self._fresh(f"{fold.name}_block_ends")
        blocks, index = self._fresh(f"{fold.name}_blocks"), self._fresh(f"{fold.name}_block")
        before = self._fresh(f"{fold.name}_before")
        lines += [f"{scan} = {steps}", self._length_line(length, scan),
                  f"{row} = tf.range({length})",
                  f"for {shift} in ({shifts}):  # windows of {block} rows",
                  f"{self.unit}{scan} = {fold.combine(f'tf.gather({scan}, tf.maximum({row} - {shift}, 0))', scan)}",
                  f"{blocks} = {length} // {block}",
                  f"{index} = tf.range({blocks})",
                  f"{ends} = tf.gather({scan}, {index} * {block} + {block - 1})",
                  f"{shift} = 1",
                  f"while {shift} < {blocks}:",
                  f"{self.unit}{ends} = {fold.combine(f'tf.gather({ends}, tf.maximum({index} - {shift}, 0))', ends)}",
                  f"{self.unit}{shift} *= 2",
                  f"{before} = tf.concat([{scan}[:1], {ends}], 0)"]
        lines.append(f"{before} = {fold.combine(fold.name, self._aligned(fold, before, lines))}")
        return fold.combine(f"tf.gather({before}, {row} // {block})", self._aligned(fold, scan, lines))

    def _aligned(self, fold, rows, lines) -> str:
        """`rows` (one per step) with axes aligned to the value carried, which may have more
        axes than a step's value: they broadcast per step, not against the steps."""
        lines.append(f"{rows} = tf.reshape({rows}, tf.concat([tf.shape({rows})[:1], tf.ones([tf.maximum("
                     f"tf.rank({fold.name}) - tf.rank({rows}) + 1, 0)], tf.int32), tf.shape({rows})[1:]], 0))")
        return rows

    def _final(self, fold, lines, guarded):
        """The fold's value after the last step."""
        leaves = self._leaves(fold.value)
        whole = leaves.invariants
        if whole and not leaves.reads:
            names = ", ".join(f"`{name}`" for name in whole)
            raise Refusal(fold.value, f"each step folds a value computed from all of {names}: stacking the steps "
                                      "would hold one copy per step and run no faster than the loop, "
                                      "which stays", "RW318")
        steps = self._all_steps(fold.value, lines, guarded)
        if fold.op in ("+", "-"):
            lines.append(f"{fold.name} = {fold.combine(fold.name, f'tf.reduce_sum({steps}, axis=0)')}")
            return
        # Pairwise tree fold over contiguous halves (the fast slices): exact for these ops in
        # any grouping and order.
        rows, length = self._fresh(f"{fold.name}_steps"), self._fresh(f"{fold.name}_length")
        half = f"{length} // 2"
        pairs = fold.combine(f"{rows}[:{half}]", f"{rows}[{half}:{half} * 2]")
        identity = {"max": f"tf.reduce_max({rows}[:0], axis=0, keepdims=True)",
                    "min": f"tf.reduce_min({rows}[:0], axis=0, keepdims=True)"}.get(
            fold.op, f"tf.zeros(tf.concat([[1], tf.shape({rows})[1:]], 0), {rows}.dtype)")
        if fold.op == "and":
            identity = f"~{identity}"
        lines += [f"{rows} = {steps}", self._length_line(length, rows),
                  f"while {length} > 1:",
                  f"{self.unit}{rows} = tf.concat([{pairs}, {rows}[{half} * 2:]], 0)",
                  f"{self.unit}{length} = ({length} + 1) // 2",
                  f"{rows} = tf.concat([{identity}, {rows}], 0)",
                  f"{fold.name} = {fold.combine(fold.name, fold.combine(f'{rows}[0]', f'{rows}[-1]'))}"]

    def _length_line(self, length, rows) -> str:
        """The number of rows: a Python int when the shape is static (the loops above unroll
        while tracing), else a tensor (a While op of log2(steps) iterations)."""
        return f"{length} = tf.shape({rows})[0] if {rows}.shape[0] is None else {rows}.shape[0]"

    def _all_steps(self, value, lines, guarded) -> str:
        """A step expression evaluated for every step at once: a leading axis of one row per
        step, with the rows of each read tensor aligned to it."""
        leaves = self._leaves(value)
        if not leaves.counter and not leaves.reads:
            raise Refusal(value, "a value of the step does not change over the steps", "RW312")
        if leaves.reduced and (leaves.bare or leaves.counter):
            raise Refusal(value, "a step mixes a reduction of its rows with other values of the step: their "
                                 "shapes need not line up once all steps are stacked", "RW317")
        ranks = {read_rank(key) for key in leaves.reads}
        several = len(ranks) > 1 and all(not rest for _, rest in leaves.reads)  # x[i] and y[i]
        if (leaves.reads and leaves.invariants) or (len(ranks) > 1 and not (several and not leaves.clipped)):
            raise Refusal(value, "a step mixes rows of a tensor with other tensors: their shapes need not line "
                                 "up once all steps are stacked", "RW317")
        if leaves.invariants and leaves.clipped:
            raise Refusal(value, "tf.clip_by_value keeps its first argument's shape: the steps cannot be "
                                 "stacked under it", "RW317")
        reads = {key: self._rows(key, node, lines, guarded) for key, node in leaves.reads.items()}
        if several:
            names = [self._fresh(f"{tensor}_rows") for tensor, _ in reads]
            lines.append(f"{', '.join(names)} = {helper_source.call('rows_side_by_side', *reads.values())}")
            reads = dict(zip(reads, names))
        steps = self.steps
        shapes = [f"tf.shape({n})" for n in leaves.invariants] + [f"tf.shape({t})[1:]" for t in reads.values()][:1]
        if shapes:
            shape = shapes[0]
            for other in shapes[1:]:
                shape = f"tf.broadcast_dynamic_shape({shape}, {other})"
            steps = f"tf.reshape({steps}, tf.concat([[-1], tf.ones_like({shape})], 0))"
        return self._render(value, steps, reads)

    def _rows(self, key, node, lines, guarded) -> str:
        """The rows of `x` the steps read at the counter: `x` itself when the loop runs over all of
        it, else `x[:n]` (`x[:tf.maximum(n, 0)]`: no steps for a negative n) after a check that
        fails where the loop would (a read past the last row)."""
        tensor, rest = key
        if self.count is None:
            raise Refusal(node, f"rows of `{tensor}` are read in a loop that does not count from 0 by 1: "
                                "it stays a loop", "RW312")
        bound = self.loop.iter.args[0]
        of = rows_of(bound, self.resolver)
        if of is not None and of.id == tensor and self._same_value(of, node):
            lead = ":"
        else:
            lead = f":{self.count}"
            if tensor not in guarded:
                guarded.add(tensor)
                lines.append(f"tf.debugging.assert_less_equal(tf.size({self.steps}, out_type=tf.int64), "
                             f"tf.shape({tensor}, out_type=tf.int64)[0], "
                             f"message='the loop reads {tensor}[{self.counter}] past its last row')")
        if lead == ":" and not rest:
            return tensor
        return f"{tensor}[{lead}{', ' + rest if rest else ''}]"

    def _render(self, value, steps, reads) -> str:
        tree = ast.parse(f"(\n{self.module.source.segment(value)}\n)", mode="eval").body
        outer = self

        class Replace(ast.NodeTransformer):
            def visit_Name(self, node):
                if node.id == outer.counter:
                    return expression(steps)
                if node.id in outer.temps:
                    return expression(outer._render(outer.temps[node.id], steps, reads))
                return node

            def visit_Subscript(self, node):
                parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                if isinstance(node.value, ast.Name) and isinstance(parts[0], ast.Name) \
                        and parts[0].id == outer.counter:
                    key = (node.value.id, ", ".join(ast.unparse(p) for p in parts[1:]))
                    for (tensor, rest), text in reads.items():
                        if tensor == key[0] and same_index(rest, key[1]):
                            return expression(text)
                return self.generic_visit(node)

            def visit_Call(self, node):
                # a reduction of each step's row: over every axis of the stacked rows but the first
                node = self.generic_visit(node)
                if ast.unparse(node.func) in outer.reductions and len(node.args) == 1 and not node.keywords:
                    (tensor, _), text = next(iter(reads.items()))
                    rows = text if text.isidentifier() else tensor  # (x[:n] has the rank of x)
                    node.keywords = [ast.keyword("axis", expression(f"tf.range(1, tf.rank({rows}))"))]
                return node

        return ast.unparse(Replace().visit(tree))

    def _fresh(self, wanted) -> str:
        return fresh_name(wanted, self.taken)
