"""Every shipped pattern against NumPy itself: each declared example, over the pattern's dtypes
and ranks (0-d, empty, broadcast), compares values, result dtype and shape; float64 cases of
differentiable patterns also check the rewrite's gradient against central differences; float
inputs salted with NaN, +-inf and -0.0 run traced."""
import pytest

from rewriter import registry
from rewriter.selftest import check_gradient, check_special_values, check_values

# Random patterns give the same distribution, not the same values: test_patterns_random.py
# checks them statistically.
PATTERNS = [p for p in registry.default() if not p.random]
GRADIENT_PATTERNS = [p for p in PATTERNS if p.domain.grad and "float64" in p.domain.dtypes]


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.numpy)
def test_pattern_matches_numpy(tf, pattern):
    failures = check_values(pattern, tf)
    assert not failures, "\n\n".join(failures[:5])


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.numpy)
def test_pattern_matches_numpy_on_nan_inf_and_signed_zeros(tf, pattern):
    failures = check_special_values(pattern, tf)
    assert not failures, "\n\n".join(failures[:3])


@pytest.mark.parametrize("pattern", GRADIENT_PATTERNS, ids=lambda p: p.numpy)
def test_pattern_gradient_matches_finite_differences(tf, pattern):
    failures = check_gradient(pattern, tf)
    assert not failures, "\n\n".join(failures[:5])
