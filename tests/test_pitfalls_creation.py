"""Semantic pitfalls of the creation family: each test runs the rewrite on inputs that expose
one difference between NumPy and the obvious TF spelling and checks the rewrite against NumPy
(values, dtype, shape, and the sign bit, NaN's included)."""
import warnings

import numpy as np
import pytest

from rewriter import facts as F
from rewriter.function import convert_function


def check(tf, expression, a):
    """The rewrite of `lambda a: expression` gives NumPy's result bit for bit (any NaN payload);
    returns the rewritten text."""
    source = f"import numpy as np\n\n\ndef f(a):\n    return {expression}\n"
    converted = convert_function(source, "f", {"a": F.array(a.dtype, a.ndim, fresh=False)})
    namespace = {"tf": tf, "np": np}
    exec(converted.text, namespace)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = np.asarray(eval(expression, {"np": np}, {"a": a}))
    got = np.asarray(namespace["f"](tf.constant(a)))
    assert (got.dtype, got.shape) == (want.dtype, want.shape), converted.text
    np.testing.assert_array_equal(got, want, err_msg=converted.text)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want), err_msg=converted.text)
    return converted.text


NON_FINITE = [
    ("np.full(a.shape, -np.inf, dtype=a.dtype)", "float32"),
    ("np.full_like(a, np.nan)", "float64"),
    ("np.full_like(a, -np.nan)", "float16"),
    ("np.full((2, len(a)), np.inf)", "int64"),
    ("np.full(a.shape, 1e300, dtype=np.float32)", "float64"),  # inf once converted to float32
    ("np.float32(-np.inf) + a", "float32"),
    ("np.linspace(-1e308, 1e308, 3) + len(a)", "int32"),  # the step overflows to inf
]


@pytest.mark.parametrize("expression, dtype", NON_FINITE, ids=[e for e, _ in NON_FINITE])
@pytest.mark.parametrize("rows", [0, 3])
def test_infinite_and_nan_constants_are_spelled_out(tf, expression, dtype, rows):
    # repr(-np.inf) is `-inf`: `tf.constant(-inf, ...)` is a NameError.
    text = check(tf, expression, np.zeros((rows, 2), dtype))
    assert "float('" in text
    with pytest.raises(NameError):
        eval(f"tf.constant({-np.inf!r})", {"tf": tf})
