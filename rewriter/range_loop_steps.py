"""The body of a `for i in tf.range(...)` loop, statement by statement: which values are
temporaries of one step, which are folds carried from step to step (`r = op(r, e)`), which are
TensorArray writes at the counter, and why anything else keeps the loop.

`Steps.rewrite` analyses the body and then writes the replacement (range_loop_emit).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import gast

from .lower import Refusal
from .range_loop_emit import StackedSteps
from .range_loop_syntax import atom, block_of, read_outside, single_target, stored_names, tensor_array_write
from .sites import bind_arguments

_FOLD_CALLS = {f"tensorflow.{name}": op for names, op in (
    ("add math.add", "+"), ("subtract math.subtract", "-"), ("multiply math.multiply", "*"),
    ("maximum math.maximum", "max"), ("minimum math.minimum", "min"),
    ("bitwise.bitwise_xor math.logical_xor", "xor"), ("bitwise.bitwise_and logical_and math.logical_and", "and"),
    ("bitwise.bitwise_or logical_or math.logical_or", "or")) for name in names.split()}
_FOLD_OPERATORS = {gast.Add: ("+", "+"), gast.Sub: ("-", "-"), gast.Mult: ("*", "*"), gast.BitXor: ("xor", "^"),
                   gast.BitAnd: ("and", "&"), gast.BitOr: ("or", "|")}
_TENSOR_ARRAY = ("dtype", "size", "dynamic_size", "clear_after_read", "tensor_array_name", "handle", "flow",
                 "infer_shape", "element_shape", "colocate_with_first_write_call", "name")


@dataclass
class _Fold:
    """`name = op(name, value)`: `op` is associative, so the steps' values can be combined in
    any grouping (sums only up to rounding, which is allowed)."""

    name: str
    op: str                  # + - * max min xor and or (products are refused)
    spelled: str             # the callable's source (`tf.maximum`) or the operator (`^`)
    call: bool
    carried_first: bool      # op(name, value) rather than op(value, name)
    value: object            # the step's value (a gast expression)
    written: list = field(default_factory=list)   # TensorArrays that receive the running value

    def combine(self, earlier: str, later: str) -> str:
        """The op on two partial results, with the operands in the loop's order."""
        first, second = (earlier, later) if self.carried_first else (later, earlier)
        if self.call:
            return f"{self.spelled}({first}, {second})"
        return f"{atom(first)} {self.spelled} {atom(second)}"


class Steps(StackedSteps):
    """One step of the loop, statement by statement: temporaries, folds, TensorArray writes."""

    def rewrite(self) -> str:
        assigned = stored_names(self.loop.body)
        for statement in self.loop.body:
            if isinstance(statement, gast.Pass):
                continue
            self._statement(statement, assigned)
        if not self.folds and not self.writes:
            raise Refusal(self.loop, "the loop neither accumulates, folds nor writes a TensorArray", "RW311")
        for name, value in self.temps.items():
            if read_outside(self.loop, name, self.scope):
                raise Refusal(value, f"`{name}` is read outside the loop, where it would hold the last step's "
                                     "value", "RW314")
        return self._emit()

    def _statement(self, statement, assigned):
        target = single_target(statement)
        if target is None:
            raise Refusal(statement, "the loop body does more than compute, fold and write values per step: "
                                     "it stays a loop", "RW313")
        name = target.id
        if name == self.counter:
            raise Refusal(statement, "the loop updates its own counter", "RW312")
        if name in self.temps or name in self.folds or name in {ta for ta, _ in self.writes} \
                or any(name in f.written for f in self.folds.values()):
            raise Refusal(statement, f"`{name}` is assigned twice in one step: it stays a loop", "RW313")
        write = tensor_array_write(statement, name)
        if write is not None:
            self._write(statement, name, write, assigned)
            return
        fold = self._fold(statement, name)
        if fold is not None and fold.op == "*":
            raise Refusal(statement, f"`{name}` is a product over the steps: the loop multiplies in order, from "
                                     "its value before the loop, and multiplying all steps at once regroups the "
                                     "factors, which overflows to inf or underflows to 0 at other steps: it stays "
                                     "a loop", "RW313")
        if fold is not None:
            self._check_reads(fold.value, assigned, statement)
            self.folds[name] = fold
            return
        value = statement.value
        if isinstance(statement, gast.AugAssign) or any(
                isinstance(n, gast.Name) and n.id == name for n in gast.walk(value)):
            raise Refusal(statement, f"`{name}` is computed from its value at the previous step, and not by a "
                                     "fold with +, -, max, min, xor, and, or: it stays a loop", "RW313")
        self._check_reads(value, assigned, statement)
        self.temps[name] = value

    def _write(self, statement, array, write, assigned):
        index, value = write
        if not (isinstance(index, gast.Name) and index.id == self.counter):
            raise Refusal(statement, f"`{array}` is written at another position than the counter: "
                                     "it stays a loop", "RW313")
        if self.count is None:
            raise Refusal(self.loop.iter, "a TensorArray is written in a loop that does not count from 0 "
                                          "by 1: it stays a loop", "RW315")
        if isinstance(value, gast.Name) and value.id in assigned and value.id not in self.temps:
            fold = self.folds.get(value.id)
            if fold is None:
                raise Refusal(statement, f"`{value.id}` is written before this step updates it: "
                                         "it stays a loop", "RW313")
            fold.written.append(array)
        else:
            self._check_reads(value, assigned, statement)
            self.writes.append((array, value))
        self._check_tensor_array(statement, array)

    def _fold(self, statement, name):
        """`name = op(name, v)`, `op(v, name)` or `name op= v`, as a _Fold; None otherwise."""
        value = statement.value
        if isinstance(statement, gast.AugAssign):
            kind = _FOLD_OPERATORS.get(type(statement.op))
            if kind is None or any(isinstance(n, gast.Name) and n.id == name for n in gast.walk(value)):
                return None
            return _Fold(name, kind[0], kind[1], False, True, value)
        if isinstance(value, gast.BinOp) and type(value.op) in _FOLD_OPERATORS:
            (op, spelled), call, operands = _FOLD_OPERATORS[type(value.op)], False, (value.left, value.right)
        elif isinstance(value, gast.Call) and _FOLD_CALLS.get(self.resolver.qualname(value.func)) \
                and len(value.args) == 2 and not value.keywords:
            op, spelled, call = _FOLD_CALLS[self.resolver.qualname(value.func)], self.module.source.segment(
                value.func), True
            operands = tuple(value.args)
        else:
            return None
        carried = [isinstance(o, gast.Name) and o.id == name for o in operands]
        if carried.count(True) != 1 or (op == "-" and not carried[0]):
            return None
        other = operands[1] if carried[0] else operands[0]
        if any(isinstance(n, gast.Name) and n.id == name for n in gast.walk(other)):
            return None
        return _Fold(name, op, spelled, call, carried[0], other)

    def _check_reads(self, value, assigned, statement):
        """A step's value may read temporaries of this step, not values carried over from the
        previous one."""
        for node in gast.walk(value):
            if not (isinstance(node, gast.Name) and node.id in assigned):
                continue
            if node.id in self.folds or any(node.id in f.written for f in self.folds.values()) \
                    or node.id in {ta for ta, _ in self.writes}:
                raise Refusal(statement, f"`{node.id}` carries its value from step to step and this step "
                                         "reads it: it stays a loop", "RW313")
            if node.id not in self.temps:
                raise Refusal(statement, f"`{node.id}` is read before this step assigns it (its value comes "
                                         "from the previous step): it stays a loop", "RW313")
        self._leaves(value)

    def _check_tensor_array(self, statement, array):
        """The TensorArray must be created fresh, with the loop's size, just before the loop in
        the same block: then unstacking every step's value is the same as writing each."""
        block = block_of(self.loop, self.resolver)
        position = block.index(self.loop)
        for earlier in reversed(block[:position]):
            target = single_target(earlier)
            if isinstance(earlier, gast.Assign) and target is not None and target.id == array:
                break
            if any(isinstance(n, gast.Name) and n.id == array for n in gast.walk(earlier)):
                raise Refusal(earlier, f"`{array}` is used between its creation and the loop: it stays a loop",
                              "RW315")
        else:
            raise Refusal(statement, f"`{array}` is not created in the same block right before the loop: "
                                     "it stays a loop", "RW315")
        call = earlier.value
        args = bind_arguments(call, _TENSOR_ARRAY) if isinstance(call, gast.Call) else None
        if args is None or self.resolver.qualname(call.func) != "tensorflow.TensorArray":
            raise Refusal(earlier, f"`{array}` is not a new `tf.TensorArray(...)`: it stays a loop", "RW315")
        if args.keys() & {"tensor_array_name", "handle", "flow"}:
            raise Refusal(earlier, f"`{array}` wraps an existing TensorArray: it stays a loop", "RW315")
        size, dynamic = args.get("size"), args.get("dynamic_size")
        grows = isinstance(dynamic, gast.Constant) and dynamic.value is True
        empty = size is None or (isinstance(size, gast.Constant) and size.value == 0 and type(size.value) is int)
        if not (grows and empty) and not (size is not None and self._same_value(size, self.loop.iter.args[0])):
            raise Refusal(earlier, f"the size of `{array}` is not the loop's step count: it stays a loop", "RW315")
