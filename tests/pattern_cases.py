"""Generate numeric test cases for every pattern from its declared domain: inputs over the
pattern's dtypes and ranks (0-d, empty, broadcast), the NumPy original's result, and the
rewrite's source. Used by test_patterns_numeric.py; no test logic lives here."""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from rewriter import facts as F
from rewriter.function import Inconsistent, Refusal, convert_function
from rewriter.pattern import Values

SHAPES = {0: [()], 1: [(5,), (0,)], 2: [(3, 4), (0, 4)], 3: [(2, 3, 4)]}
SQUARE_SHAPES = {2: [(3, 3)], 3: [(2, 3, 3)]}


@dataclass
class Case:
    pattern: str
    example: str
    dtype: str
    shapes: tuple
    args: tuple

    @property
    def id(self) -> str:
        shapes = "_".join("x".join(map(str, s)) or "0d" for s in self.shapes)
        return f"{self.example}|{self.dtype}|{shapes}"


def values(kind: Values, shape, dtype, rng):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if kind in (Values.SQUARE, Values.SPD):
        n = shape[-1]
        m = rng.standard_normal(shape)
        if kind is Values.SPD:
            m = m @ np.swapaxes(m, -1, -2)
        return (m + n * np.eye(n)).astype(dtype)
    if dtype.kind in "iu":
        low, high = {Values.POSITIVE: (1, 6), Values.NONNEG: (0, 6), Values.INDEX: (0, 3)}.get(kind, (-5, 6))
        if dtype.kind == "u":
            low = max(low, 0)
        out = rng.integers(low, high, shape)
        if kind is Values.NONZERO:
            out[out == 0] = 1
        return out.astype(dtype)
    if kind is Values.POSITIVE:
        real = rng.uniform(0.5, 3.0, shape)
    elif kind is Values.NONNEG:
        real = rng.uniform(0.0, 3.0, shape)
    elif kind is Values.UNIT:
        real = rng.uniform(-0.9, 0.9, shape)
    elif kind is Values.NONZERO:
        real = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 3.0, shape)
    else:
        real = rng.standard_normal(shape) * 2
    if dtype.kind == "c":
        real = real + 1j * rng.standard_normal(shape)
    return np.asarray(real).astype(dtype)


def cases(pattern):
    """All (example, dtype, shapes) combinations NumPy itself accepts."""
    rng = np.random.default_rng(zlib.crc32(pattern.numpy.encode()))  # the same data in every run
    out = []
    shapes_by_rank = SQUARE_SHAPES if pattern.domain.values in (Values.SQUARE, Values.SPD) else SHAPES
    for example in pattern.examples:
        names = [n for n in ("a", "b", "c") if _mentions(example, n)]
        for dtype in pattern.domain.dtypes:
            for rank in pattern.domain.ranks:
                for shape in shapes_by_rank.get(rank, []):
                    shape_sets = [tuple(shape for _ in names)]
                    if pattern.domain.broadcast and len(names) > 1 and len(shape) >= 1 and shape[-1]:
                        shape_sets.append((shape,) + tuple(shape[-1:] for _ in names[1:]))  # broadcast
                    for shapes in shape_sets:
                        args = tuple(values(pattern.domain.values, s, dtype, rng) for s in shapes)
                        if numpy_result(example, names, args) is not None:
                            out.append(Case(pattern.numpy, example, dtype, shapes, args))
    return out


def _mentions(example: str, name: str) -> bool:
    import re

    return re.search(rf"(?<![\w.]){name}(?!\w)", example) is not None


def source(example: str, names) -> str:
    return f"import numpy as np\n\n\ndef f({', '.join(names)}):\n    return {example}\n"


def numpy_result(example, names, args):
    """The original's result, or None when NumPy rejects these inputs."""
    namespace = {"np": np}
    exec(source(example, names), namespace)
    import warnings

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return namespace["f"](*args)
        except Exception:
            return None


def rewrite(case):
    """(tf source text, patterns) for a case, lowering with the exact dtypes and ranks."""
    names = [n for n in ("a", "b", "c") if _mentions(case.example, n)]
    facts = {n: F.array(a.dtype, a.ndim, fresh=False) for n, a in zip(names, case.args)}
    converted = convert_function(source(case.example, names), "f", facts)
    return converted, names


__all__ = ["Case", "cases", "numpy_result", "rewrite", "Refusal", "Inconsistent", "source"]
