"""Every pattern against NumPy itself: each declared example, over the pattern's dtypes and
ranks (0-d, empty, broadcast), compares values and result dtype; float64 cases of
differentiable patterns also check the rewrite's gradient against central differences."""
import numpy as np
import pytest

from rewriter import registry
from pattern_cases import cases, numpy_result, rewrite

# Random patterns give the same distribution, not the same values: test_patterns_random.py
# checks them statistically.
PATTERNS = [p for p in registry.default() if not p.random]


def _tolerance(dtype):
    kind = np.dtype(dtype)
    if kind in (np.float32, np.complex64):
        return dict(rtol=2e-5, atol=2e-5)
    if kind == np.float16:
        return dict(rtol=2e-3, atol=2e-3)
    return dict(rtol=1e-10, atol=1e-10)


def _run(tf, text, args):
    namespace = {"tf": tf, "np": np}
    exec(text, namespace)
    return namespace["f"](*[tf.constant(a) for a in args])


def _flatten(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.numpy)
def test_pattern_matches_numpy(tf, pattern):
    generated = cases(pattern)
    assert generated, f"{pattern.numpy}: no example runs in NumPy over its declared domain"
    for case in generated:
        converted, names = rewrite(case)
        expected = _flatten(numpy_result(case.example, names, case.args))
        got = _flatten(_run(tf, converted.text, case.args))
        assert len(got) == len(expected), case.id
        for want, have in zip(expected, got):
            have = np.asarray(have)
            want = np.asarray(want)
            context = f"{case.id}\n{converted.text}"
            assert have.dtype == want.dtype, f"dtype {have.dtype} != NumPy's {want.dtype}: {context}"
            assert have.shape == want.shape, f"shape {have.shape} != NumPy's {want.shape}: {context}"
            np.testing.assert_allclose(have, want, equal_nan=True, err_msg=context, **_tolerance(want.dtype))


def _real_view(lib, value):
    """Complex outputs are checked through their real and imaginary parts side by side."""
    if value.dtype in (np.complex64, np.complex128) or getattr(value.dtype, "is_complex", False):
        if lib is np:
            return np.stack([value.real, value.imag])
        return lib.stack([lib.math.real(value), lib.math.imag(value)])
    return value


GRADIENT_PATTERNS = [p for p in PATTERNS if p.domain.grad and "float64" in p.domain.dtypes]


@pytest.mark.parametrize("pattern", GRADIENT_PATTERNS, ids=lambda p: p.numpy)
def test_pattern_gradient_matches_finite_differences(tf, pattern):
    rng = np.random.default_rng(1)
    checked = 0
    for case in cases(pattern):
        if case.dtype != "float64" or any(0 in a.shape for a in case.args) or checked >= 3:
            continue
        converted, names = rewrite(case)
        namespace = {"tf": tf, "np": np}
        exec(converted.text, namespace)
        inputs = [tf.Variable(a) for a in case.args]
        with tf.GradientTape() as tape:
            out = _real_view(tf, _flatten(namespace["f"](*inputs))[0])
            weights = rng.standard_normal(out.shape)
            total = tf.reduce_sum(out * weights)
        grads = tape.gradient(total, inputs)
        direction = [rng.standard_normal(a.shape) for a in case.args]
        eps = 1e-6
        plus = [a + eps * d for a, d in zip(case.args, direction)]
        minus = [a - eps * d for a, d in zip(case.args, direction)]
        f_plus = np.asarray(_flatten(numpy_result(case.example, names, plus))[0])
        f_minus = np.asarray(_flatten(numpy_result(case.example, names, minus))[0])
        numeric = float(np.sum(_real_view(np, (f_plus - f_minus) / (2 * eps)) * weights))
        analytic = sum(float(np.sum(g.numpy() * d)) for g, d in zip(grads, direction) if g is not None)
        assert all(g is not None for g in grads), f"{case.id}: a gradient is None\n{converted.text}"
        assert abs(analytic - numeric) <= 1e-4 * max(1.0, abs(numeric)), (
            f"{case.id}: gradient {analytic} vs finite differences {numeric}\n{converted.text}")
        checked += 1
    assert checked, f"{pattern.numpy}: no float64 case to check the gradient on"
