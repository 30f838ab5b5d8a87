"""What `rewriter check` reports: one diagnostic (where, which rule, what to do) and the rule codes.

A module of its own so that the rules, which make diagnostics (check_rules, check_tf_function),
and `check`, which filters and prints them, both import it without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass

RULES = {
    "RWC001": "tf.numpy_function / tf.py_function site that `rewriter fix` can (or can't) convert",
    "RWC002": "tf.map_fn over a function that vectorizes (elementwise, or `rewriter fix` converts it)",
    "RWC003": "np.apply_along_axis (a Python call per slice)",
    "RWC004": "NumPy array captured by a Dataset.map function",
    "RWC005": "np.random inside a tf.function (evaluated once, at trace time)",
    "RWC006": "tf.function around plain Python scalar arithmetic",
    "RWC007": "tf.function called with varying Python numbers (retraces per value)",
    "RWC008": "`for` over tf.range that `rewriter fix` writes as whole-tensor ops",
    "RWC009": "@tf.custom_gradient around a NumPy forward (a hand-written gradient `rewriter fix --verify` checks)",
    "RWC900": "syntax error",
    "RWC901": "internal error while analysing",
}
ALWAYS_REPORTED = frozenset({"RWC900", "RWC901"})   # never filtered out by select/ignore


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int          # 1-based (within the cell for notebooks)
    col: int           # 1-based, in characters
    code: str
    message: str
    fixable: bool = False
    cell: int | None = None   # notebooks: 1-based index of the cell among all cells

    def sort_key(self):
        return (self.path, self.cell or 0, self.line, self.col, self.code, self.message)
