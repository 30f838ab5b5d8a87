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
    scatter, cell_writes
    vectorize               a per-row or per-element body lifted to all rows at once
    nested                  defs inside the lowered function, and the locals nested code reads
    walker                  FunctionLowering: statements, with expressions.py and operators.py
    builtin_calls           Python builtins (`len`, `max`, `round`, `hasattr`), for calls
    apply                   a NumPy call lowered through its pattern
    lowered, handlers,      what lowering produces and refuses with, the table, row counting,
    rows, loops             loop notes
"""
from __future__ import annotations

from . import accumulate, calls, cell_writes, fill, indexing, inplace, nested, recurrence, scatter  # noqa: F401 (they register)
from .apply import signature_of
from .lowered import Inconsistent, Lowered, LoweredFunction, Refusal
from .walker import FunctionLowering

__all__ = ["FunctionLowering", "Inconsistent", "Lowered", "LoweredFunction", "Refusal", "signature_of"]
