"""What a loop runs over, seen as one batch: the rows of arrays (`for r in x`, `enumerate(x)`,
`zip(a, b)`), row indices (`range(len(x))`), or a fixed table of numbers (`for color in
COLORS`, made one tensor). The loop forms that lift a whole loop body to every step at once
(`append_loops.py`, `masked_writes.py`) start from here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import gast
import numpy as np

from . import facts as F
from .edits import fresh_name, names_in
from .facts import Fact, Kind
from .lowered import Refusal
from .rows import RowIndex, range_bound, steps_of


@dataclass
class Steps:
    """What the loop runs over, seen as one batch: facts of its names for every row at once,
    the TF text of those rows, and lines that must come first (a shared row count, a table
    made a tensor)."""

    element: dict = field(default_factory=dict)
    over: dict = field(default_factory=dict)
    prelude: list = field(default_factory=list)


def loop_steps(lw, loop):
    """The batch the loop runs over: the rows of arrays (directly, `enumerate`, `zip`), row
    indices (`range(len(x))`), or a fixed table of numbers; None for any other loop."""
    target, iterable = loop.target, loop.iter
    taken = names_in(lw.resolver.module.tree)
    steps = Steps()
    bound = range_bound(lw, iterable)
    if bound is not None:
        counted = steps_of(lw, bound)
        if counted is None or not isinstance(target, gast.Name):
            return None
        _, rows, count = counted
        steps.element[target.id] = Fact(Kind.OTHER, value=RowIndex(rows, count))
        return steps
    builtin = lw.resolver.builtin(iterable.func) if isinstance(iterable, gast.Call) else None
    if builtin in (enumerate, zip):
        names = target.elts if isinstance(target, gast.Tuple) else []
        if iterable.keywords or not all(isinstance(n, gast.Name) for n in names) \
                or len(names) != (2 if builtin is enumerate else len(iterable.args)) \
                or (builtin is enumerate and len(iterable.args) != 1):
            return None
        if builtin is enumerate:
            counter, name = names
            rows = _rows(lw, loop, iterable.args[0], name.id, steps, taken)
            if rows is None:
                return None
            steps.element[counter.id] = Fact(Kind.OTHER, value=RowIndex(rows, f"tf.shape({rows})[0]"))
            return steps
        texts = [_rows(lw, loop, a, n.id, steps, taken) for a, n in zip(iterable.args, names)]
        if None in texts:
            return None
        if len(set(texts)) > 1:  # zip stops at the shortest
            count = fresh_name("steps", taken)
            shortest = f"tf.shape({texts[-1]})[0]"
            for text in reversed(texts[:-1]):
                shortest = f"tf.minimum(tf.shape({text})[0], {shortest})"
            steps.prelude.append(f"{count} = {shortest}")
            steps.over = {name: f"{text}[:{count}]" for name, text in steps.over.items()}
        return steps
    if not isinstance(target, gast.Name):
        return None
    return steps if _rows(lw, loop, iterable, target.id, steps, taken) is not None else None


def _rows(lw, loop, iterable, name, steps, taken):
    """Add the loop name `name` taking the rows of `iterable` to `steps`; the rows' TF text, or
    None when `iterable` is neither an array of known rank nor a table of numbers."""
    rows = lw.expr(iterable)
    fact = rows.fact
    if fact.kind is Kind.TUPLE:
        return _table(lw, loop, iterable, name, steps, taken)
    if fact.kind is not Kind.ARRAY or not fact.rank or fact.dtype is None or fact.batched:
        return None
    steps.element[name] = fact.with_(rank=fact.rank - 1, batched=True, fresh=False)
    steps.over[name] = rows.text
    return rows.text


def _table(lw, loop, iterable, name, steps, taken):
    """A fixed list of tuples of numbers (`COLORS = [(0, 0, 0), (128, 0, 0)]`) as one tensor:
    each tuple is the array NumPy makes of it (`np.array((0, 0, 0))` is int64). Faithful only
    where the loop hands the tuple to NumPy whole: indexed or unpacked it is Python numbers,
    whose dtype NumPy's promotion treats as weak."""
    try:
        table = np.asarray(_values(lw.expr(iterable).fact))
    except (ValueError, LookupError):
        return None
    if table.ndim >= 2 and any(np.asarray(row).dtype != table.dtype for row in table.tolist()):
        raise Refusal(iterable, "the table's tuples make arrays of different dtypes (ints and floats, or "
                                "bools): NumPy would compute each step in its own dtype")
    if table.ndim < 2 or table.dtype.kind not in "biuf" or len(table) == 0:
        if table.ndim == 1:
            raise Refusal(iterable, "a loop over Python numbers is not vectorized: each is a weak scalar "
                                    "in NumPy's promotion, which one tensor of them would not be")
        return None
    for use in gast.walk(loop):
        if isinstance(use, gast.Name) and use.id == name and isinstance(use.ctx, gast.Load) \
                and not _handed_to_numpy(lw, use):
            raise Refusal(use, f"`{name}` is a tuple of Python numbers used as one here: only a loop that "
                               "hands each tuple to NumPy whole (`np.array(t)`, `x == t`) is vectorized")
    tensor = fresh_name(f"{name}s", taken)
    taken.add(tensor)
    steps.prelude.append(f"{tensor} = tf.constant({lw.source.segment(iterable)}, {F.tf_name(table.dtype)})")
    steps.element[name] = F.array(table.dtype, table.ndim - 1, fresh=False).with_(batched=True)
    steps.over[name] = tensor
    return tensor


def _values(fact):
    """The Python values of a tuple of known numbers (LookupError when one is not known)."""
    if fact.kind is Kind.TUPLE:
        return [_values(item) for item in fact.items]
    if fact.kind is Kind.SCALAR and fact.known and fact.pytype in (bool, int, float):
        return fact.value
    raise LookupError


_TO_ARRAY = frozenset({"numpy.array", "numpy.asarray", "numpy.asanyarray"})


def _handed_to_numpy(lw, use) -> bool:
    """Whether NumPy turns this use of a tuple into an array: `np.array(t)`, or an operand of
    an arithmetic or comparison with an array (elsewhere a tuple may mean a shape)."""
    parent = lw.resolver.parents.get(use)
    if isinstance(parent, gast.Call):
        return bool(parent.args) and parent.args[0] is use and lw.resolver.qualname(parent.func) in _TO_ARRAY
    if isinstance(parent, gast.BinOp) and not isinstance(parent.op, gast.MatMult):
        other = parent.right if parent.left is use else parent.left
    elif isinstance(parent, gast.Compare) and len(parent.ops) == 1:
        other = parent.comparators[0] if parent.left is use else parent.left
    else:
        return False
    return _array_valued(lw, other)


def _array_valued(lw, node) -> bool:
    if isinstance(node, gast.Name):
        fact = lw.env.get(node.id)
        return fact is not None and fact.kind is Kind.ARRAY
    if isinstance(node, (gast.Subscript, gast.Attribute)):
        return _array_valued(lw, node.value)
    if isinstance(node, gast.Call):
        return (lw.resolver.qualname(node.func) or "").startswith("numpy.")
    return isinstance(node, gast.BinOp) and (_array_valued(lw, node.left) or _array_valued(lw, node.right))
