"""Functional forms that call a Python function per row or element: vectorized.

The lowering lives in `rewriter.vectorize` (it lowers the function's body with batched facts);
these records make the calls visible to the registry, the pattern listing and the tests.
"""
from rewriter.facts import Fact, Kind
from rewriter.pattern import Batch, Cast, Domain, Pattern
from rewriter.vectorize import lower_apply_along_axis

FAMILY_CODE = "NPV"


def _unknown_until_lowered(facts):
    """The result depends on the row function: the lowering sets it (unknown if it refuses)."""
    return Fact(Kind.ARRAY)

PATTERNS = (
    Pattern("numpy.apply_along_axis",
            examples=("np.apply_along_axis(lambda r: np.sum(r ** 2), 1, a)",
                      "np.apply_along_axis(lambda r: (r - r.mean()) / (r.std() + 1.0), 0, a)",
                      "np.apply_along_axis(lambda r: np.max(np.abs(r)), -1, a)"),
            lower=lower_apply_along_axis, handles=("func1d", "axis", "arr", "args", "kwargs"),
            arrays=("arr",), cast=Cast.NONE, batch=Batch.NONE, result=_unknown_until_lowered,
            domain=Domain(dtypes=("float32", "float64", "int32", "int64"), ranks=(1, 2, 3)),
            note="the row function is applied to all rows at once (rows moved last), "
                 "or mapped with tf.vectorized_map when some call in it has no batching rule"),
)
