"""The pattern format: one frozen record per NumPy callable, lowered to TensorFlow.

A pattern is data first. `tf` is a template written as Python source whose holes are NumPy's
parameter names (``"tf.reduce_sum(a, axis=axis, keepdims=keepdims)"``); a keyword whose hole
the call leaves out is dropped, so TF's default (which the pattern author checked equals
NumPy's) applies. What a template cannot say goes into `lower`, a small function over the
bound call, with a comment on why.

Result dtypes are NumPy's own: the engine evaluates the NumPy callable on tiny inputs of the
argument dtypes (see `dtypes.numpy_result`). `cast` says how array inputs are brought to the
dtype TF must compute in, which is where NumPy's promotion and TF's strictness differ.
"""
from __future__ import annotations

import ast
import enum
import re
from dataclasses import dataclass, field, replace
from typing import Callable


class Cast(enum.Enum):
    """How array arguments are cast before the TF op runs."""

    RESULT = "cast array inputs to NumPy's result dtype (arithmetic, math, reductions)"
    COMMON = "cast array inputs to their common NumPy dtype (comparisons, where, stacking)"
    NONE = "no cast: the op keeps its input dtype or handles dtypes itself"


class Batch(enum.Enum):
    """How the op behaves when every array input gains a leading batch axis (vectorizer)."""

    ELEMENTWISE = "elementwise: lifts unchanged (inputs broadcast against each other)"
    REDUCE = "reduction over `axis`: axis shifts by one; axis=None reduces all but the batch axis"
    AXIS = "takes an `axis`: non-negative axes shift by one, negative axes stay"
    MATRIX = "acts on the last two axes: lifts unchanged"
    NONE = "no batching rule: the vectorizer falls back to tf.vectorized_map"


class Values(enum.Enum):
    """Which input values a pattern is tested on (its valid domain)."""

    REAL = "any finite value"
    POSITIVE = "strictly positive"
    NONNEG = "zero or positive"
    UNIT = "inside (-1, 1)"
    NONZERO = "away from zero"
    SQUARE = "well-conditioned square matrices on the last two axes"
    SPD = "symmetric positive-definite matrices"
    INDEX = "valid non-negative indices"


FLOATS = ("float16", "float32", "float64")
INTS = ("int8", "int16", "int32", "int64", "uint8")
COMPLEX = ("complex64", "complex128")
NUMERIC = FLOATS + INTS
ALL = NUMERIC + ("bool",) + COMPLEX


@dataclass(frozen=True)
class Domain:
    """Test domain: value range, dtypes and the ranks the examples are tried on."""

    values: Values = Values.REAL
    dtypes: tuple = NUMERIC
    ranks: tuple = (0, 1, 2, 3)
    grad: bool = True  # differentiable in its float dtypes
    broadcast: bool = True  # multi-array examples are also tried with broadcasting shapes


@dataclass(frozen=True)
class Pattern:
    numpy: str
    """Qualified NumPy name: ``numpy.sum``, ``numpy.fft.rfft``; methods and attributes of
    arrays as ``ndarray.sum`` and ``ndarray.T``."""
    examples: tuple
    """NumPy call sources over arrays ``a``, ``b`` (and ``c``) that tests run both ways."""
    tf: str = ""
    lower: Callable | None = None
    signature: str | None = None
    """NumPy's signature as ``"(a, axis=None, ...)"`` where introspection cannot give it;
    ``"attribute"`` for array attributes such as ``ndarray.T``."""
    via: str = ""
    """For array methods: the NumPy function with the same meaning (``ndarray.sum`` via
    ``numpy.sum``), whose signature binds the call with the array as first argument."""
    cast: Cast = Cast.RESULT
    arrays: tuple = ()
    """Parameters holding arrays (cast and batched); by default the first parameter (all
    inputs of a ufunc)."""
    handles: tuple = ()
    """Parameters a `lower` function takes care of (a template's holes count by themselves)."""
    result: Callable | None = None
    """The result's fact from the arguments' facts (a dict by parameter name), for calls whose
    result NumPy can't show on stand-in arrays (`squeeze` needs axes of length one)."""
    batch: Batch = Batch.ELEMENTWISE
    domain: Domain = field(default_factory=Domain)
    note: str = ""
    code: str = ""
    random: bool = False
    """Draws random numbers: the rewrite has the same distribution, not the same values, so
    it is tested statistically and never reported as numerically verified."""

    def as_method(self, name: str | None = None, examples: tuple = ()) -> "Pattern":
        """The same lowering for the array method of that name (`a.sum(1)` as `np.sum(a, 1)`)."""
        method = name or self.numpy.rsplit(".", 1)[-1]
        return replace(self, numpy=f"ndarray.{method}", via=self.numpy, code="",
                       examples=examples or tuple(_as_method_call(e, method) for e in self.examples[:1]))

    @property
    def is_attribute(self) -> bool:
        return self.signature == "attribute"

    def holes(self) -> set:
        """Parameter names the template or the lowering function consume."""
        names = set(self.handles)
        if self.tf:
            names |= {n.id for n in ast.walk(ast.parse(self.tf, mode="eval")) if isinstance(n, ast.Name)}
        return names

    def summary(self) -> str:
        return self.tf or (self.lower.__doc__ or self.lower.__name__).strip().splitlines()[0]


def _as_method_call(example: str, method: str) -> str:
    """`np.sum(a, axis=1)` -> `a.sum(axis=1)` for examples whose first argument is `a`."""
    match = re.fullmatch(r"np\.[\w.]+\(a(?P<rest>[,)].*)", example)
    if not match:
        return example
    rest = match.group("rest")
    return f"a.{method}({rest[1:].lstrip() if rest.startswith(',') else rest}"


OMIT = object()
"""Binding for a parameter the call left out."""


def _is_atom(text: str) -> bool:
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return False
    if isinstance(node, ast.Constant):
        return not (isinstance(node.value, (int, float, complex)) and text.strip().startswith("-"))
    return isinstance(node, (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.List, ast.Tuple, ast.Dict, ast.Set))


def logical_not(text: str) -> str:
    """Elementwise `not` of a bool tensor, written so graphs keep NumPy's answer on NaN:
    Grappler rewrites `tf.logical_not(x < y)` into `x >= y`, which is False where NumPy's
    `~(x < y)` is True (x or y NaN). It leaves `tf.equal(b, False)` alone."""
    return f"tf.equal({text}, False)"


def nan_keeping(reduction: str, x: str, args: str = "") -> str:
    """`reduction(x<args>)` (tf.reduce_max or tf.reduce_min) made NaN wherever the reduced
    slice holds a NaN, as NumPy's are: compiled with XLA, TF's reductions skip NaN. `x` is
    read twice, so it must be a name."""
    return (f"tf.where(tf.reduce_any(tf.math.is_nan({x}){args}), tf.constant(float('nan'), {x}.dtype), "
            f"{reduction}({x}{args}))")


def parenthesize(text: str) -> str:
    """Wrap `text` in parentheses unless it is an atom (name, call, subscript, literal)."""
    return text if _is_atom(text) else f"({text})"


class _Holes(ast.NodeTransformer):
    def __init__(self, bindings: dict):
        self.bindings = bindings
        self.placeholders: dict = {}

    def visit_Call(self, node):
        node.keywords = [
            kw for kw in node.keywords
            if not (isinstance(kw.value, ast.Name) and self.bindings.get(kw.value.id, None) is OMIT)
        ]
        return self.generic_visit(node)

    def visit_Name(self, node):
        if node.id not in self.bindings:
            return node
        text = self.bindings[node.id]
        if text is OMIT:
            raise ValueError(f"template needs `{node.id}`, which the call leaves out")
        key = f"__hole{len(self.placeholders)}__"
        self.placeholders[key] = text
        return ast.Name(id=key, ctx=ast.Load())


_ARGUMENT_PARENTS = (ast.Call, ast.keyword, ast.List, ast.Tuple)


def render(template: str, bindings: dict) -> str:
    """Fill a template's holes with argument source text.

    `bindings` maps hole names to source text, or to OMIT for a parameter the call left out:
    a keyword argument whose value is an omitted hole is dropped from the template.
    """
    tree = ast.parse(template, mode="eval")
    holes = _Holes(bindings)
    tree = holes.visit(tree)
    in_argument = set()
    for parent in ast.walk(tree):
        if isinstance(parent, _ARGUMENT_PARENTS):
            for child in ast.iter_child_nodes(parent):
                if isinstance(child, ast.Name) and child.id in holes.placeholders:
                    if not (isinstance(parent, ast.Call) and child is parent.func):
                        in_argument.add(child.id)
    out = ast.unparse(tree)
    for key, text in holes.placeholders.items():
        out = out.replace(key, text if key in in_argument else parenthesize(text))
    return out
