"""In-place updates become functional TF only when the array is provably local."""
import numpy as np
import pytest

from rewriter import facts as F
from rewriter.function import Refusal, convert_function

UPDATES = {
    "mask-scalar": "y = x * 1.0\n    y[y > 0.5] = 0\n    return y",
    "mask-int-into-float": "y = np.zeros(x.shape)\n    y[x > 0] = 3\n    return y",
    "trailing-slice-divide": "y = x.copy()\n    y[..., :2] /= 255\n    return y",
    "column": "y = x + 0\n    y[:, 0] = -1.5\n    return y",
    "negative-row": "y = x + 0\n    y[-1] = 7\n    return y",
    "stepped-block-add": "y = x + 0\n    y[1:3, ::2] += 0.5\n    return y",
    "negative-slice-bounds": "y = x + 0\n    y[-2:, :-1] *= 2\n    return y",
    "out-of-range-slice": "y = x + 0\n    y[10:] = 0\n    y[:, -100:1] = 1\n    return y",
    "float-into-int-truncates": "y = np.zeros(x.shape, dtype=np.int64)\n    y[x > 0] = 2.7\n    return y",
    "name-augassign": "y = x * 2\n    y += 1\n    y **= 2\n    return y",
    "row-from-another-array": "y = x * 1.0\n    y[0] = x[1]\n    y[-1] = x[0] * 2\n    return y",
}


@pytest.mark.parametrize("body", UPDATES.values(), ids=UPDATES.keys())
def test_updates_match_numpy(tf, body):
    source = f"import numpy as np\n\n\ndef f(x):\n    {body}\n"
    converted = convert_function(source, "f", {"x": F.array("float64", 2, fresh=False)})
    assert "tf.where" in converted.text or "tf.tensor_scatter_nd_update" in converted.text or "y = y" in converted.text
    x = np.random.default_rng(2).standard_normal((4, 5))
    expected = {"np": np}
    exec(source, expected)
    got = {"tf": tf, "np": np}
    exec(converted.text, got)
    want = expected["f"](x.copy())
    have = got["f"](tf.constant(x))
    assert have.dtype == tf.as_dtype(want.dtype)
    np.testing.assert_allclose(have.numpy(), want, rtol=1e-12)


REFUSED = {
    "parameter-is-not-local": "x[0] = 1\n    return x",
    "aliased-array": "y = x * 1.0\n    z = y\n    y[0] = 1\n    return z",
    "view-of-parameter": "y = x[1:]\n    y[0] = 1\n    return x",
    "array-value-into-region": "y = x * 1.0\n    y[0:2] = x[1:3]\n    return y",
    "computed-bound": "y = x * 1.0\n    n = 2\n    y[: n + len(y) - 4] = 0\n    return y",
}


@pytest.mark.parametrize("body", REFUSED.values(), ids=REFUSED.keys())
def test_updates_that_cannot_be_proven_local_are_refused(body):
    source = f"import numpy as np\n\n\ndef f(x):\n    {body}\n"
    with pytest.raises(Refusal):
        convert_function(source, "f", {"x": F.array("float64", 2, fresh=False)})
