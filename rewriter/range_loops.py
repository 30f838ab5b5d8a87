"""Scalar loops over `tf.range` inside TF code become whole-range vector ops.

Once the values a loop carries are recognised, its steps no longer depend on each other, so
every step is computed at once, one row per step:

* accumulations `r += e(i)` / `r -= e(i)`, maybe under `if`/`else` on `i`: one `tf.reduce_sum`;
* TensorArray writes at the counter, `ta = ta.write(t, e(t))` or `f(x[t])`: `ta.unstack` of all
  the rows;
* folds with an associative op, `r = op(r, e)` for `+ -`, max, min and xor/and/or: the final
  value from `tf.reduce_sum` or an exact pairwise tree fold, and, when `r` is written each
  step, its running values from `tf.cumsum` or an exact log-step doubling scan.

The replacement evaluates the loop's `tf.range(...)` again for every value it stacks, with the
limit clamped to the start: traced, AutoGraph counts the steps without running the Range op,
so `tf.range(-1)` is zero steps there, not the Range op's error.

A fold whose steps each compute on whole tensors (`parity ^= (codes >> i) & 1`) keeps the
loop (RW318): stacking its steps costs one copy of those tensors per step and measured slower
than the loop. So does a product (RW313): the loop multiplies in order, from the carried value,
and any regrouping (`r * tf.reduce_prod`, `tf.math.cumprod` of the factors, a doubling scan)
overflows to inf or underflows to 0 at other steps. A body that rebinds a name the range reads
keeps the loop (RW312): the loop counts its steps once, before the first. Anything else carried
from one step to the next keeps the loop (RW311-RW317).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

import gast

from .edits import fresh_name, names_in, substitute
from .lower import Refusal
from .sites import bind_arguments
from .vectorize import _TF_ELEMENTWISE, tf_elementwise

_STEP_CALLS = _TF_ELEMENTWISE | frozenset(f"tensorflow.{name}" for name in (
    "bitwise.bitwise_and bitwise.bitwise_or bitwise.bitwise_xor bitwise.invert bitwise.left_shift "
    "bitwise.right_shift logical_and logical_or math.logical_and math.logical_or math.logical_xor "
    "equal not_equal greater greater_equal less less_equal math.equal math.not_equal math.greater "
    "math.greater_equal math.less math.less_equal").split())
_FOLD_CALLS = {f"tensorflow.{name}": op for names, op in (
    ("add math.add", "+"), ("subtract math.subtract", "-"), ("multiply math.multiply", "*"),
    ("maximum math.maximum", "max"), ("minimum math.minimum", "min"),
    ("bitwise.bitwise_xor math.logical_xor", "xor"), ("bitwise.bitwise_and logical_and math.logical_and", "and"),
    ("bitwise.bitwise_or logical_or math.logical_or", "or")) for name in names.split()}
_FOLD_OPERATORS = {gast.Add: ("+", "+"), gast.Sub: ("-", "-"), gast.Mult: ("*", "*"), gast.BitXor: ("xor", "^"),
                   gast.BitAnd: ("and", "&"), gast.BitOr: ("or", "|")}
_RANGE = ("start", "limit", "delta", "dtype", "name")
_TENSOR_ARRAY = ("dtype", "size", "dynamic_size", "clear_after_read", "tensor_array_name", "handle", "flow",
                 "infer_shape", "element_shape", "colocate_with_first_write_call", "name")


def vectorize_range_loop(site, module, resolver):
    """The lines replacing a `for i in tf.range(...)` loop whose steps are independent once
    its accumulations, folds and TensorArray writes are recognised (see the module docstring)."""
    loop = site.call
    counter = loop.target.id
    scope = resolver.enclosing(loop, (gast.FunctionDef,)) or module.tree
    if _read_outside(loop, counter, scope):
        raise Refusal(loop, f"`{counter}` is used after the loop (it would hold the last step)", "RW314")
    rebound = sorted({n.id for n in gast.walk(loop.iter) if isinstance(n, gast.Name)} & _stored_names(loop.body))
    if rebound:
        names = ", ".join(f"`{name}`" for name in rebound)
        raise Refusal(loop, f"the loop body rebinds {names}, which the range reads: the loop counts its steps "
                            "once, before the first, and the rewrite would count them again after the update",
                      "RW312")
    steps, count = _step_range(loop.iter, module, resolver)
    try:
        return _accumulation(loop, counter, module, resolver, steps)
    except Refusal:
        if any(isinstance(s, gast.If) for s in loop.body):
            raise
    return _Steps(loop, counter, scope, module, resolver, steps, count).rewrite()


def _step_range(call, module, resolver):
    """(the loop's `tf.range(...)` with its limit clamped to the start, the number of steps when it
    is `tf.range(n)`, else None). The clamp makes a range that runs zero times empty: traced,
    AutoGraph counts the steps itself and never runs the Range op, which raises for
    `tf.range(-1)`. (Run eagerly, the loop raises there and the rewrite runs zero steps.)"""
    segment = module.source.segment
    args = None if any(isinstance(a, gast.Starred) for a in call.args) else bind_arguments(call, _RANGE)
    if args is None or not args.keys() <= set(_RANGE) or "start" not in args:
        raise Refusal(call, "the range's arguments are not written out (start, limit, delta)", "RW312")
    start, limit, delta = args["start"], args.get("limit"), args.get("delta")
    if limit is None:
        start, limit = None, start
    sign = 1 if delta is None else _literal_sign(delta)
    if sign is None:
        raise Refusal(delta, f"the range's step `{segment(delta)}` is not a nonzero number written out: whether "
                             "it counts up or down (and so when it runs zero times) is not known", "RW312")
    lowest = "0" if start is None else segment(start)
    clamped = segment(limit) if start is None and sign > 0 and _never_negative(limit, resolver) \
        else f"tf.{'maximum' if sign > 0 else 'minimum'}({segment(limit)}, {lowest})"
    parts = ([] if start is None else [segment(start)]) + [clamped] + [
        f"{name}={segment(args[name])}" for name in ("delta", "dtype", "name") if name in args]
    counts = start is None and delta is None and len(call.args) == 1
    return f"{segment(call.func)}({', '.join(parts)})", clamped if counts else None


def _literal_sign(node):
    """1 or -1 for a nonzero number written out (`2`, `-1`, `0.5`), None for anything else."""
    signed = isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd))
    number = node.operand if signed else node
    if not (isinstance(number, gast.Constant) and type(number.value) in (int, float) and number.value):
        return None
    return -1 if signed and isinstance(node.op, gast.USub) else 1


def _never_negative(limit, resolver) -> bool:
    """A count that cannot be negative: a number written out, or the rows of a tensor."""
    if isinstance(limit, gast.Constant):
        return type(limit.value) is int and limit.value >= 0
    return _rows_of(limit, resolver) is not None


# -- accumulations, maybe under if/else on the counter ---------------------------------------

def _accumulation(loop, counter, module, resolver, steps):
    """`r += e(i)` becomes `r = r + tf.reduce_sum(e(tf.range(...)))`; a branch becomes `tf.where`
    over the steps."""
    contributions: dict = {}
    _collect(loop.body, counter, resolver, contributions, None, module, steps)
    if not contributions:
        raise Refusal(loop, "the loop does not accumulate anything", "RW311")
    indent = module.source.indent_of_line(loop.lineno)
    lines = []
    for name, parts in contributions.items():
        total = " + ".join(parts)
        lines.append(f"{indent}{name} = {name} + tf.reduce_sum({total})\n")
    return "".join(lines)


def _collect(statements, counter, resolver, out, condition, module, steps):
    for statement in statements:
        if isinstance(statement, gast.AugAssign) and isinstance(statement.target, gast.Name) \
                and isinstance(statement.op, (gast.Add, gast.Sub)):
            if not tf_elementwise(statement.value, counter, resolver):
                raise Refusal(statement, "an accumulated value depends on more than the loop counter", "RW312")
            if statement.target.id == counter:
                raise Refusal(statement, "the loop updates its own counter", "RW312")
            value = _over_steps(statement.value, counter, steps, module)
            if isinstance(statement.op, gast.Sub):
                value = f"-{value}"
            if condition is not None:
                test, branch = condition
                chosen = (value, f"tf.zeros_like({value})") if branch else (f"tf.zeros_like({value})", value)
                value = f"tf.where({test}, {chosen[0]}, {chosen[1]})"
            out.setdefault(statement.target.id, []).append(value)
        elif isinstance(statement, gast.If) and condition is None:
            if not tf_elementwise(statement.test, counter, resolver):
                raise Refusal(statement, "the branch depends on more than the loop counter", "RW312")
            test = _over_steps(statement.test, counter, steps, module)
            _collect(statement.body, counter, resolver, out, (test, True), module, steps)
            _collect(statement.orelse, counter, resolver, out, (test, False), module, steps)
        else:
            raise Refusal(statement, "the loop body does more than accumulate: it stays a loop", "RW313")


def _over_steps(node, counter, steps, module) -> str:
    """An expression of the counter, evaluated for every step at once. A value without the
    counter (`count += 1`) stays a loop: stacked, the number would take TF's default dtype,
    not the accumulator's, where the loop adds it in the accumulator's dtype."""
    if not any(isinstance(n, gast.Name) and n.id == counter for n in gast.walk(node)):
        raise Refusal(node, f"`{module.source.segment(node)}` does not depend on the loop counter: its dtype "
                            "comes from the accumulator at each step, so it stays a loop", "RW312")
    text = substitute(module.source.segment(node), {counter: steps})
    return f"({text})" if not text.startswith(("tf.", "(")) else text


# -- folds, running values and TensorArray writes --------------------------------------------

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
        return f"{_atom(first)} {self.spelled} {_atom(second)}"


@dataclass
class _Leaves:
    """What a step expression reads: the counter, rows of one tensor at the counter, tensors
    that do not change over the steps."""

    counter: bool = False
    reads: dict = field(default_factory=dict)      # (tensor, rest of the index) -> a Name node
    invariants: dict = field(default_factory=dict)  # name -> a Name node
    clipped: bool = False                           # tf.clip_by_value: its result has its first shape


class _Steps:
    """One step of the loop, statement by statement: temporaries, folds, TensorArray writes."""

    def __init__(self, loop, counter, scope, module, resolver, steps, count):
        self.loop, self.counter, self.scope = loop, counter, scope
        self.module, self.resolver = module, resolver
        self.steps, self.count = steps, count   # see _step_range
        self.temps: dict = {}        # name -> value node (inlined where used)
        self.folds: dict = {}        # name -> _Fold
        self.writes: list = []       # (TensorArray name, step value node) for values of the step
        self.taken = names_in(module.tree)
        self.indent = module.source.indent_of_line(loop.lineno)
        self.unit = module.source.indent_of_line(loop.body[0].lineno)[len(self.indent):] or "    "

    # analysis

    def rewrite(self) -> str:
        assigned = _stored_names(self.loop.body)
        for statement in self.loop.body:
            if isinstance(statement, gast.Pass):
                continue
            self._statement(statement, assigned)
        if not self.folds and not self.writes:
            raise Refusal(self.loop, "the loop neither accumulates, folds nor writes a TensorArray", "RW311")
        for name, value in self.temps.items():
            if _read_outside(self.loop, name, self.scope):
                raise Refusal(value, f"`{name}` is read outside the loop, where it would hold the last step's "
                                     "value", "RW314")
        return self._emit()

    def _statement(self, statement, assigned):
        target = _single_target(statement)
        if target is None:
            raise Refusal(statement, "the loop body does more than compute, fold and write values per step: "
                                     "it stays a loop", "RW313")
        name = target.id
        if name == self.counter:
            raise Refusal(statement, "the loop updates its own counter", "RW312")
        if name in self.temps or name in self.folds or name in {ta for ta, _ in self.writes} \
                or any(name in f.written for f in self.folds.values()):
            raise Refusal(statement, f"`{name}` is assigned twice in one step: it stays a loop", "RW313")
        write = _tensor_array_write(statement, name)
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
        block = _block_of(self.loop, self.resolver)
        position = block.index(self.loop)
        for earlier in reversed(block[:position]):
            target = _single_target(earlier)
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

    def _same_value(self, a, b) -> bool:
        """The same expression over the same definitions of every name (nothing rebinds them)."""
        if gast.dump(a) != gast.dump(b):
            return False
        names_a = [n for n in gast.walk(a) if isinstance(n, gast.Name)]
        names_b = [n for n in gast.walk(b) if isinstance(n, gast.Name)]
        return all(set(map(id, self.resolver.definitions(x))) == set(map(id, self.resolver.definitions(y)))
                   and self.resolver.definitions(x) for x, y in zip(names_a, names_b))

    def _leaves(self, node, leaves=None) -> _Leaves:
        """Check that a step expression is elementwise in what it reads, and say what that is."""
        leaves = leaves if leaves is not None else _Leaves()
        if isinstance(node, gast.Name):
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
        elif isinstance(node, gast.BinOp) and not isinstance(node.op, gast.MatMult):
            self._leaves(node.left, leaves)
            self._leaves(node.right, leaves)
        elif isinstance(node, gast.UnaryOp) and not isinstance(node.op, gast.Not):
            self._leaves(node.operand, leaves)
        elif isinstance(node, gast.Compare) and len(node.ops) == 1:
            self._leaves(node.left, leaves)
            self._leaves(node.comparators[0], leaves)
        elif isinstance(node, gast.Call) and self._elementwise_call(node):
            name = self.resolver.qualname(node.func)
            leaves.clipped |= name == "tensorflow.clip_by_value"
            args = node.args[:1] if name in ("tensorflow.cast", "tensorflow.dtypes.cast") else node.args
            for part in [*args, *(k.value for k in node.keywords if k.arg not in ("dtype", "name"))]:
                self._leaves(part, leaves)
        else:
            raise Refusal(node, f"`{self.module.source.segment(node)}` is not elementwise in the loop counter "
                                "and rows read at it", "RW312")
        return leaves

    def _elementwise_call(self, node) -> bool:
        name = self.resolver.qualname(node.func)
        if name not in _STEP_CALLS or any(k.arg is None for k in node.keywords):
            return False
        return not (name.endswith("where") and len(node.args) + len(node.keywords) != 3)

    def _read(self, node):
        """`x[i]` or `x[i, <constant index>...]` of a tensor the loop does not change: the key
        (name, rest of the index) of rows read at the counter; None for anything else."""
        if not isinstance(node.value, gast.Name) or node.value.id in self.temps or node.value.id == self.counter \
                or node.value.id in _stored_names(self.loop.body):
            return None
        parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if not (isinstance(parts[0], gast.Name) and parts[0].id == self.counter):
            return None
        if not all(_constant_index(p) for p in parts[1:]):
            return None
        return node.value.id, ", ".join(self.module.source.segment(p) for p in parts[1:])

    # emission

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
            if not fold.written or _read_outside(self.loop, fold.name, self.scope):
                self._final(fold, lines, guarded)
        return "".join(f"{self.indent}{line}\n" for line in lines)

    def _scan(self, fold, lines, guarded) -> str:
        """The running values of a fold: one row per step."""
        steps = self._all_steps(fold.value, lines, guarded)
        scan = self._fresh(f"{fold.name}_scan")
        if fold.op in ("+", "-"):
            lines.append(f"{scan} = tf.cumsum({steps}, axis=0)")
        else:
            # Log-step doubling: after k rounds each row holds the op over the 2**k rows ending
            # at it. Exact for max, min and the bitwise ops.
            shift, length = self._fresh(f"{fold.name}_shift"), self._fresh(f"{fold.name}_length")
            lines += [f"{scan} = {steps}", self._length_line(length, scan), f"{shift} = 1",
                      f"while {shift} < {length}:",
                      f"{self.unit}{scan} = tf.concat([{scan}[:{shift}], "
                      f"{fold.combine(f'{scan}[:-{shift}]', f'{scan}[{shift}:]')}], 0)",
                      f"{self.unit}{shift} *= 2"]
        # One row per step, its axes aligned to the value carried (which may have more axes
        # than a step's value: they broadcast per step, not against the steps).
        lines.append(f"{scan} = tf.reshape({scan}, tf.concat([tf.shape({scan})[:1], tf.ones([tf.maximum("
                     f"tf.rank({fold.name}) - tf.rank({scan}) + 1, 0)], tf.int32), tf.shape({scan})[1:]], 0))")
        return fold.combine(fold.name, scan)

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
        if (leaves.reads and leaves.invariants) or len({_read_rank(key) for key in leaves.reads}) > 1:
            raise Refusal(value, "a step mixes rows of a tensor with other tensors: their shapes need not line "
                                 "up once all steps are stacked", "RW317")
        if leaves.invariants and leaves.clipped:
            raise Refusal(value, "tf.clip_by_value keeps its first argument's shape: the steps cannot be "
                                 "stacked under it", "RW317")
        reads = {key: self._rows(key, node, lines, guarded) for key, node in leaves.reads.items()}
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
        of = _rows_of(bound, self.resolver)
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
                    return _expression(steps)
                if node.id in outer.temps:
                    return _expression(outer._render(outer.temps[node.id], steps, reads))
                return node

            def visit_Subscript(self, node):
                parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                if isinstance(node.value, ast.Name) and isinstance(parts[0], ast.Name) \
                        and parts[0].id == outer.counter:
                    key = (node.value.id, ", ".join(ast.unparse(p) for p in parts[1:]))
                    for (tensor, rest), text in reads.items():
                        if tensor == key[0] and _same_index(rest, key[1]):
                            return _expression(text)
                return self.generic_visit(node)

        return ast.unparse(Replace().visit(tree))

    def _fresh(self, wanted) -> str:
        return fresh_name(wanted, self.taken)


# -- helpers ---------------------------------------------------------------------------------

def _single_target(statement):
    """The Name an `x = ...` or `x op= ...` statement binds, or None."""
    if isinstance(statement, gast.Assign) and len(statement.targets) == 1 \
            and isinstance(statement.targets[0], gast.Name):
        return statement.targets[0]
    if isinstance(statement, gast.AugAssign) and isinstance(statement.target, gast.Name):
        return statement.target
    return None


def _tensor_array_write(statement, name):
    """(index, value) of `name = name.write(index, value)`, or None."""
    call = statement.value if isinstance(statement, gast.Assign) else None
    if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == "write"
            and isinstance(call.func.value, gast.Name) and call.func.value.id == name):
        return None
    args = bind_arguments(call, ("index", "value", "name"))
    if args is None or not {"index", "value"} <= args.keys():
        return None
    return args["index"], args["value"]


def _stored_names(statements) -> set:
    return {n.id for s in statements for n in gast.walk(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _read_outside(loop, name, scope) -> bool:
    """Whether a value the loop leaves in `name` may be read: after the loop, anywhere in a loop
    around it (the next round), in a nested function, or through `global`/`nonlocal`."""
    inside = {id(n) for n in gast.walk(loop)}
    around = [n for n in gast.walk(scope) if isinstance(n, (gast.For, gast.While)) and n is not loop
              and id(loop) in {id(m) for m in gast.walk(n)}]
    nested = [n for n in gast.walk(scope) if isinstance(n, (gast.FunctionDef, gast.Lambda)) and n is not scope]
    for node in gast.walk(scope):
        if isinstance(node, (gast.Global, gast.Nonlocal)) and name in node.names:
            return True
        if not (isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, gast.Load)) \
                or id(node) in inside:
            continue
        if node.lineno > loop.end_lineno or any(_contains(n, node) for n in around + nested):
            return True
    return False


def _contains(outer, node) -> bool:
    return (outer.lineno, outer.col_offset) <= (node.lineno, node.col_offset) \
        and (node.end_lineno, node.end_col_offset) <= (outer.end_lineno, outer.end_col_offset)


def _block_of(statement, resolver) -> list:
    parent = resolver.parents.get(statement)
    for name in ("body", "orelse", "finalbody"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and any(s is statement for s in block):
            return block
    return [statement]


def _rows_of(bound, resolver):
    """The tensor `x` when the step count is `tf.shape(x)[0]`, directly or through a name bound
    once to it; None otherwise."""
    if isinstance(bound, gast.Name):
        definitions = resolver.definitions(bound)
        parent = resolver.parents.get(definitions[0]) if len(definitions) == 1 else None
        if not (isinstance(parent, gast.Assign) and parent.targets == [definitions[0]]):
            return None
        bound = parent.value
    if isinstance(bound, gast.Subscript) and isinstance(bound.slice, gast.Constant) and bound.slice.value == 0 \
            and type(bound.slice.value) is int and isinstance(bound.value, gast.Call) \
            and resolver.qualname(bound.value.func) == "tensorflow.shape" and len(bound.value.args) == 1 \
            and isinstance(bound.value.args[0], gast.Name) and all(k.arg == "out_type" for k in bound.value.keywords):
        return bound.value.args[0]
    return None


def _constant_index(node) -> bool:
    """An index that is the same at every step: a number, `None`, `...`, or a slice of numbers."""
    if isinstance(node, gast.Constant):
        return node.value is None or node.value is Ellipsis or type(node.value) is int
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return _constant_index(node.operand) and node.operand.value not in (None, Ellipsis)
    if isinstance(node, gast.Slice):
        return all(p is None or (_constant_index(p) and not (isinstance(p, gast.Constant) and p.value is Ellipsis))
                   for p in (node.lower, node.upper, node.step))
    return False


def _read_rank(key):
    """Reads with the same key have rows of the same rank: (tensor, axes added minus axes
    removed by the rest of the index), or the read itself when `...` leaves that open."""
    tensor, rest = key
    parts = ast.parse(f"x[0, {rest}]").body[0].value.slice.elts[1:] if rest else []
    if any(isinstance(p, ast.Constant) and p.value is Ellipsis for p in parts):
        return key
    return tensor, sum(1 if isinstance(p, ast.Constant) and p.value is None else
                       0 if isinstance(p, ast.Slice) else -1 for p in parts)


def _same_index(a: str, b: str) -> bool:
    return ast.dump(ast.parse(f"x[0, {a}]" if a else "x[0]")) == ast.dump(ast.parse(f"x[0, {b}]" if b else "x[0]"))


def _expression(text: str):
    return ast.parse(f"({text})", mode="eval").body


def _atom(text: str) -> str:
    node = ast.parse(text, mode="eval").body
    return text if isinstance(node, (ast.Name, ast.Call, ast.Subscript, ast.Attribute)) else f"({text})"
