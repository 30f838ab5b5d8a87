"""What lowering produces and how it says no: the values every lowering module shares.

They live apart from the walker (`walker.py`) so that the modules that lower calls,
subscripts and loops can use them without importing the walker's own imports in a circle.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .facts import Fact


AUTOGRAPH_DECORATOR = "@__rw_autograph_converted"
"""Put on an emitted function that branches or loops on a tensor (the `autograph_converted`
helper of `tf_helpers.py`, defined in the file). Such code compiles only through AutoGraph,
which a Keras layer, or a Dataset.map built inside a tf.function, does not apply to the
functions it calls. `tf.autograph.to_graph` converts the function once, at import: traced,
its branches are graph ops wherever it is called; run eagerly, it still runs eagerly, as the
original did (a tf.function would trace eager calls, retrace them per input shape, and run a
dispatch's call of the original in a graph, where numpy_function checks dtypes it cast). The
helper keeps the function as written where AutoGraph cannot read its source, so the module
still imports."""


class Refusal(Exception):
    """This code has no faithful lowering; `node` is where, `reason` says why."""

    def __init__(self, node, reason: str, code: str = "RW200"):
        super().__init__(reason)
        self.node, self.reason, self.code = node, reason, code


class Inconsistent(Exception):
    """NumPy itself rejects the code under the assumed input dtypes: the assumption is wrong."""


@dataclass
class Lowered:
    text: str
    fact: Fact
    changed: bool = False
    items: list | None = None
    """For list and tuple literals: the lowered elements, so each can be cast on its own."""
    spliced: bool = False
    """The text is the node's own source with parts replaced: same top-level structure, so it
    needs no extra parentheses where the original needed none."""

    def with_unbatched(self) -> "Lowered":
        """The same value seen as one element (for dtype rules of what it reduces into)."""
        return Lowered(self.text, self.fact.with_(batched=False), self.changed)


@dataclass
class LoweredFunction:
    edits: dict = field(default_factory=dict)  # Span -> replacement text
    returns: list = field(default_factory=list)  # (value node, Lowered) of each return
    patterns: set = field(default_factory=set)  # qualified NumPy names lowered
    notes: list = field(default_factory=list)
    """Loops kept as loops (AutoGraph compiles them), each "line N: why" for the report."""
    graph_branches: list = field(default_factory=list)
    """Where the body branches or loops on a tensor, each "line N: ..." Only AutoGraph compiles
    such code, and a Keras layer or a Dataset.map built inside a tf.function traces the function
    without it: the emitted function is then converted when it is defined (AUTOGRAPH_DECORATOR).
    A same-file helper's own are not listed here: its copy carries the decorator itself."""
    returns_under_graph_branch: bool = False
    """A `return` under an `if` on a tensor at the top of the body: AutoGraph compiles it there,
    but not nested in a dispatch's branch, so such a site gets one body (`emit_site.py`)."""
    tensorflow_calls: bool = False
    """The body calls TensorFlow itself (kept as it is): gradients may now flow where the
    wrapper blocked them."""
    leaves_tensorflow: bool = False
    """The body takes a tensor out of TF (`.numpy()`, a NumPy call), which stops gradients
    in a py_function."""
    refusals: list = field(default_factory=list)
    """Refusals whose result dtype was still known, so lowering could go on: the caller
    decides whether they matter (they don't when the input dtypes are inconsistent anyway)."""
    helper_copies: frozenset = frozenset()
    """Names of the copies of same-file helpers the function calls (`helpers.py`)."""
