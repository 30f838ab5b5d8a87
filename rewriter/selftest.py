"""Self-tests of patterns: each pattern's examples run both ways over its declared domain.

Used by the test suite for the shipped library and by `rewriter patterns --test` for a
project's own patterns, so both are held to the same standard: every example, over the
pattern's dtypes and ranks (0-d, empty, broadcast shapes), must give NumPy's values, dtype
and shape; so must float inputs salted with NaN, +-inf and -0.0, run inside a graph (where
Grappler's rewrites apply); differentiable patterns' float64 gradients must match central
differences.
"""
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


def rewrite(case, registry=None):
    """(tf source text, patterns) for a case, lowering with the exact dtypes and ranks."""
    names = [n for n in ("a", "b", "c") if _mentions(case.example, n)]
    facts = {n: F.array(a.dtype, a.ndim, fresh=False) for n, a in zip(names, case.args)}
    converted = convert_function(source(case.example, names), "f", facts, registry)
    return converted, names


def tolerance(dtype) -> dict:
    kind = np.dtype(dtype)
    if kind in (np.float32, np.complex64):
        return dict(rtol=2e-5, atol=2e-5)
    if kind == np.float16:
        return dict(rtol=2e-3, atol=2e-3)
    return dict(rtol=1e-10, atol=1e-10)


def _flatten(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


def _run(tf, text, args, traced=False):
    namespace = {"tf": tf, "np": np}
    exec(text, namespace)  # our own generated code
    function = tf.function(namespace["f"], autograph=False) if traced else namespace["f"]
    return function(*[tf.constant(a) for a in args])


def check_values(pattern, tf, registry=None) -> list:
    """Failure messages of a pattern's numeric self-test (empty when it passes)."""
    generated = cases(pattern)
    if not generated:
        return [f"{pattern.numpy}: no example runs in NumPy over its declared domain"]
    failures = []
    traced_examples = set()
    for case in generated:
        try:
            converted, names = rewrite(case, registry)
            expected = _flatten(numpy_result(case.example, names, case.args))
            got = _flatten(_run(tf, converted.text, case.args))
            # Each example also runs once inside a graph, where TF converts Python literals
            # differently (a bare 0. next to a float64 tensor is float32 there).
            if case.example not in traced_examples and all(isinstance(g, tf.Tensor) for g in got):
                traced_examples.add(case.example)
                got = _flatten(_run(tf, converted.text, case.args, traced=True))
        except Exception as exc:  # noqa: BLE001 - a refusal or a TF error inside the domain fails
            failures.append(f"{case.id}: {type(exc).__name__}: {exc}")
            continue
        if len(got) != len(expected):
            failures.append(f"{case.id}: {len(got)} outputs, NumPy gives {len(expected)}")
            continue
        for want, have in zip(expected, got):
            have, want = np.asarray(have), np.asarray(want)
            if have.dtype != want.dtype:
                failures.append(f"{case.id}: dtype {have.dtype} != NumPy's {want.dtype}\n{converted.text}")
            elif have.shape != want.shape:
                failures.append(f"{case.id}: shape {have.shape} != NumPy's {want.shape}\n{converted.text}")
            elif not np.allclose(have, want, equal_nan=True, **tolerance(want.dtype)):
                failures.append(f"{case.id}: values differ from NumPy's\n{converted.text}")
    return failures


SPECIAL = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0])
# NumPy gives no contract for non-finite input to FFTs and LAPACK factorizations: the result
# depends on the algorithm's order of operations, in NumPy as in TF.
_NONFINITE_UNDEFINED = ("numpy.fft.", "numpy.linalg.")


def check_special_values(pattern, tf, registry=None) -> list:
    """Failure messages of a pattern on float inputs where a third of the entries are NaN,
    +-inf or -0.0, each example and float dtype once, traced."""
    if pattern.domain.values is not Values.REAL or pattern.numpy.startswith(_NONFINITE_UNDEFINED):
        return []
    rng = np.random.default_rng(zlib.crc32(pattern.numpy.encode()) + 1)
    failures, seen = [], set()
    for case in cases(pattern):
        if case.dtype not in ("float32", "float64") or (case.example, case.dtype) in seen \
                or not any(a.ndim and a.size >= 3 for a in case.args):
            continue
        seen.add((case.example, case.dtype))
        args = tuple(_salted(a, rng) for a in case.args)
        names = [n for n in ("a", "b", "c") if _mentions(case.example, n)]
        expected = numpy_result(case.example, names, args)
        if expected is None or not all(isinstance(e, (np.ndarray, np.generic)) for e in _flatten(expected)):
            continue  # NumPy rejects the inputs, or gives Python numbers (a graph returns tensors)
        try:
            converted, names = rewrite(case, registry)
            got = _flatten(_run(tf, converted.text, args, traced=True))
        except Exception as exc:  # noqa: BLE001 - a TF error on these inputs fails
            failures.append(f"{case.id} with NaN/inf/-0: {type(exc).__name__}: {exc}")
            continue
        for want, have in zip(_flatten(expected), got):
            have, want = np.asarray(have), np.asarray(want)
            if have.shape != want.shape or have.dtype != want.dtype or \
                    not np.allclose(have, want, equal_nan=True, **tolerance(want.dtype)):
                failures.append(f"{case.id} with NaN/inf/-0: inputs {[a.tolist() for a in args]}: NumPy gives "
                                f"{want.tolist()}, the rewrite {have.tolist()}\n{converted.text}")
                break
    return failures


def _salted(array, rng):
    array = np.array(array, copy=True)
    if array.dtype.kind != "f" or array.size == 0:
        return array
    flat = array.reshape(-1)
    count = max(1, flat.size // 3)
    flat[rng.choice(flat.size, count, replace=False)] = rng.choice(SPECIAL, count)
    return flat.reshape(array.shape)


def _real_view(lib, value):
    """Complex outputs are checked through their real and imaginary parts side by side."""
    if value.dtype in (np.complex64, np.complex128) or getattr(value.dtype, "is_complex", False):
        if lib is np:
            return np.stack([value.real, value.imag])
        return lib.stack([lib.math.real(value), lib.math.imag(value)])
    return value


def check_gradient(pattern, tf, limit=3, registry=None) -> list:
    """Failure messages of a differentiable pattern's float64 gradient self-test."""
    rng = np.random.default_rng(1)
    checked, failures = 0, []
    for case in cases(pattern):
        if case.dtype != "float64" or any(0 in a.shape for a in case.args) or checked >= limit:
            continue
        converted, names = rewrite(case, registry)
        namespace = {"tf": tf, "np": np}
        exec(converted.text, namespace)
        inputs = [tf.Variable(a) for a in case.args]
        with tf.GradientTape() as tape:
            out = _real_view(tf, _flatten(namespace["f"](*inputs))[0])
            weights = rng.standard_normal(out.shape)
            total = tf.reduce_sum(out * weights)
        grads = tape.gradient(total, inputs)
        if any(g is None for g in grads):
            failures.append(f"{case.id}: a gradient is None\n{converted.text}")
            continue
        direction = [rng.standard_normal(a.shape) for a in case.args]
        eps = 1e-6
        plus = [a + eps * d for a, d in zip(case.args, direction)]
        minus = [a - eps * d for a, d in zip(case.args, direction)]
        f_plus = np.asarray(_flatten(numpy_result(case.example, names, plus))[0])
        f_minus = np.asarray(_flatten(numpy_result(case.example, names, minus))[0])
        numeric = float(np.sum(_real_view(np, (f_plus - f_minus) / (2 * eps)) * weights))
        analytic = sum(float(np.sum(tf.convert_to_tensor(g).numpy() * d)) for g, d in zip(grads, direction))
        if abs(analytic - numeric) > 1e-4 * max(1.0, abs(numeric)):
            failures.append(f"{case.id}: gradient {analytic} vs finite differences {numeric}\n{converted.text}")
        checked += 1
    if not checked:
        failures.append(f"{pattern.numpy}: no float64 case to check the gradient on")
    return failures


__all__ = ["Case", "cases", "numpy_result", "rewrite", "Refusal", "Inconsistent", "source", "check_values",
           "check_special_values", "check_gradient", "tolerance"]
