"""Reductions: sum, mean, extrema, products, logical reductions, variance, arg-extrema.

NumPy's result dtype is reached by casting the input first (`Cast.RESULT`): an int mean is a
float64 mean, a bool or int32 sum accumulates in int64.
"""
from rewriter.pattern import FLOATS, INTS, NUMERIC, Batch, Cast, Domain, Pattern

FAMILY_CODE = "NP2"


def _reduction(name, tf, dtypes=NUMERIC + ("bool",), note="", grad=True, cast=Cast.RESULT, examples=None):
    return Pattern(
        f"numpy.{name}",
        examples=examples or (f"np.{name}(a)", f"np.{name}(a, axis=-1)", f"np.{name}(a, 0, keepdims=True)"),
        tf=tf, cast=cast, batch=Batch.REDUCE, domain=Domain(dtypes=dtypes, ranks=(1, 2, 3), grad=grad), note=note,
    )


def _moment(kind):
    def lower(call):
        ddof = call.const("ddof", 0)
        a, axis = call.text("a"), call.text("axis") if call.given("axis") else "None"
        keep = call.text("keepdims") if call.given("keepdims") else "False"
        if call.result.dtype.kind == "c":
            call.refuse("complex variance is not rewritten")
        var = f"tf.math.reduce_variance({a}, axis={axis}, keepdims={keep})"
        if ddof:
            # NumPy divides by (n - ddof); TF's reduce_variance always divides by n.
            dtype = _tf(call.result.dtype)
            n = (f"(tf.cast(tf.size({a}), {dtype}) / "
                 f"tf.cast(tf.maximum(tf.size(tf.reduce_sum({a}, axis={axis})), 1), {dtype}))")
            var = f"{var} * {n} / ({n} - {ddof})"
        return f"tf.sqrt({var})" if kind == "std" else var

    lower.__doc__ = f"tf.math.reduce_variance with NumPy's ddof{' and a square root' if kind == 'std' else ''}"
    return lower


def _tf(dtype):
    from rewriter.facts import tf_name

    return tf_name(dtype)


PATTERNS = (
    _reduction("sum", "tf.reduce_sum(a, axis=axis, keepdims=keepdims)"),
    _reduction("prod", "tf.reduce_prod(a, axis=axis, keepdims=keepdims)"),
    _reduction("mean", "tf.reduce_mean(a, axis=axis, keepdims=keepdims)", dtypes=NUMERIC,
               note="integer input averages in float64, as NumPy"),
    _reduction("max", "tf.reduce_max(a, axis=axis, keepdims=keepdims)", dtypes=NUMERIC, grad=False),
    _reduction("min", "tf.reduce_min(a, axis=axis, keepdims=keepdims)", dtypes=NUMERIC, grad=False),
    _reduction("amax", "tf.reduce_max(a, axis=axis, keepdims=keepdims)", dtypes=NUMERIC, grad=False),
    _reduction("amin", "tf.reduce_min(a, axis=axis, keepdims=keepdims)", dtypes=NUMERIC, grad=False),
    _reduction("any", "tf.reduce_any(a, axis=axis, keepdims=keepdims)", grad=False),
    _reduction("all", "tf.reduce_all(a, axis=axis, keepdims=keepdims)", grad=False),
    Pattern("numpy.std", examples=("np.std(a)", "np.std(a, axis=1, ddof=1)", "np.std(a, -1, keepdims=True)"),
            lower=_moment("std"), handles=("a", "axis", "keepdims", "ddof"), batch=Batch.REDUCE,
            domain=Domain(dtypes=NUMERIC, ranks=(1, 2, 3)), note="ddof divides by n - ddof (TF has no ddof)"),
    Pattern("numpy.var", examples=("np.var(a)", "np.var(a, axis=0, ddof=1)", "np.var(a, -1, keepdims=True)"),
            lower=_moment("var"), handles=("a", "axis", "keepdims", "ddof"), batch=Batch.REDUCE,
            domain=Domain(dtypes=NUMERIC, ranks=(1, 2, 3)), note="ddof divides by n - ddof (TF has no ddof)"),
    _reduction("argmax", "tf.argmax(a, axis=axis)", cast=Cast.NONE, dtypes=NUMERIC, grad=False,
               examples=("np.argmax(a, axis=-1)", "np.argmax(a, 0)")),
    _reduction("argmin", "tf.argmin(a, axis=axis)", cast=Cast.NONE, dtypes=NUMERIC, grad=False,
               examples=("np.argmin(a, axis=-1)", "np.argmin(a, 0)")),
)

_METHODS = ("sum", "prod", "mean", "max", "min", "any", "all", "std", "var", "argmax", "argmin")
PATTERNS = PATTERNS + tuple(p.as_method() for p in PATTERNS if p.numpy.rsplit(".", 1)[1] in _METHODS)
