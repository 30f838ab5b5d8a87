"""Stage 4 — lower: one NumPy function body rewritten to TF. Import lowering from here.

`walker.FunctionLowering` walks a function; the modules that lower what it hands on (calls,
subscripts, in-place updates, loops rewritten as a whole) register in the `handlers` table
when imported, so the walker reaches them without importing them. This module imports them
all: a FunctionLowering taken from here finds every lowering. Each layer imports only the
layers below it:

    lower                   this module
    calls, indexing,        register in `handlers`; calls and the loop forms lift bodies
    inplace, accumulate,    with vectorize
    fill, recurrence,
    scatter, cell_writes,
    append_loops,
    masked_writes
    batch_steps             what a loop runs over, as one batch
    vectorize               a per-row or per-element body lifted to all rows at once
    nested                  defs inside the lowered function, and the locals nested code reads
    walker                  FunctionLowering: statements, with expressions.py and operators.py
    builtin_calls           Python builtins (`len`, `max`, `round`, `hasattr`), for calls
    apply                   a NumPy call lowered through its pattern
    stacking                a list of rows stacked by np.array, np.stack, np.concatenate
    lowered, handlers,      what lowering produces and refuses with, the table, row counting,
    rows, loops             loop notes
"""
from __future__ import annotations

from . import (accumulate, append_loops, calls, cell_writes, fill, indexing, inplace,  # noqa: F401 (they register)
               masked_writes, nested, pairwise_steps, recurrence, scatter)
from .apply import signature_of
from .lowered import Inconsistent, Lowered, LoweredFunction, Refusal
from .walker import FunctionLowering

__all__ = ["FunctionLowering", "Inconsistent", "Lowered", "LoweredFunction", "Refusal", "signature_of"]
