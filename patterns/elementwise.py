"""Elementwise math: ufuncs and their operator forms.

Inputs are cast to NumPy's result dtype first (`Cast.RESULT`), which is where NumPy's
promotion (int -> float64 for `sqrt`, int8 -> float16, weak Python scalars) meets TF's
refusal to mix dtypes.
"""
from rewriter.pattern import ALL, COMPLEX, FLOATS, INTS, NUMERIC, Batch, Cast, Domain, Pattern, Values

FAMILY_CODE = "NP1"

_REAL = Domain(dtypes=NUMERIC)
_FLOAT = Domain(dtypes=FLOATS + INTS)


def _unary(name, tf, values=Values.REAL, dtypes=NUMERIC, cast=Cast.RESULT, note="", grad=True):
    return Pattern(f"numpy.{name}", examples=(f"np.{name}(a)",), tf=tf, cast=cast,
                   domain=Domain(values=values, dtypes=dtypes, grad=grad), note=note)


def _binary(name, tf, values=Values.REAL, dtypes=NUMERIC, note="", grad=True, cast=Cast.RESULT):
    return Pattern(f"numpy.{name}", examples=(f"np.{name}(a, b)", f"np.{name}(a, 2)"), tf=tf,
                   cast=cast, domain=Domain(values=values, dtypes=dtypes, grad=grad), note=note)


def _clip(call):
    """np.clip(a, lo, hi): either bound may be None; TF needs both, in the result dtype."""
    lo = call.given("a_min") and not (call.fact("a_min").known and call.fact("a_min").value is None)
    hi = call.given("a_max") and not (call.fact("a_max").known and call.fact("a_max").value is None)
    a = call.text("a")
    if lo and hi:
        return f"tf.clip_by_value({a}, {call.text('a_min')}, {call.text('a_max')})"
    if lo:
        return f"tf.maximum({a}, {call.text('a_min')})"
    if hi:
        return f"tf.minimum({a}, {call.text('a_max')})"
    call.refuse("needs at least one bound")


def _where(call):
    """np.where(cond, x, y): NumPy takes any condition dtype (non-zero is True)."""
    if not call.given("x"):
        call.refuse("the one-argument form returns indices of varying length")
    cond = call.text("condition")
    if call.fact("condition").kind.value == "array" and call.fact("condition").dtype.kind != "b":
        cond = f"tf.cast({cond}, tf.bool)"
    return f"tf.where({cond}, {call.text('x')}, {call.text('y')})"


PATTERNS = (
    _unary("exp", "tf.exp(x)", dtypes=FLOATS + INTS + COMPLEX),
    _unary("expm1", "tf.math.expm1(x)"),
    _unary("exp2", "tf.pow(tf.constant(2, x.dtype), x)"),
    _unary("log", "tf.math.log(x)", Values.POSITIVE),
    _unary("log1p", "tf.math.log1p(x)", Values.NONNEG),
    _unary("log2", "tf.math.log(x) / tf.math.log(tf.constant(2, x.dtype))", Values.POSITIVE),
    _unary("log10", "tf.math.log(x) / tf.math.log(tf.constant(10, x.dtype))", Values.POSITIVE),
    _unary("sqrt", "tf.sqrt(x)", Values.NONNEG),
    _unary("cbrt", "tf.sign(x) * tf.pow(tf.abs(x), 1 / 3)", note="TF has no cube root of negatives; sign restores it"),
    _unary("square", "tf.square(x)"),
    _unary("reciprocal", "tf.math.reciprocal(x)", Values.NONZERO, dtypes=FLOATS),
    _unary("absolute", "tf.abs(x)", cast=Cast.NONE, dtypes=NUMERIC + COMPLEX, grad=False,
           note="complex input gives its real magnitude, as in NumPy"),
    _unary("fabs", "tf.abs(x)", grad=False),
    _unary("negative", "tf.negative(x)"),
    _unary("positive", "tf.identity(x)"),
    _unary("sign", "tf.sign(x)", grad=False),
    _unary("floor", "tf.floor(x)", dtypes=FLOATS, grad=False),
    _unary("ceil", "tf.math.ceil(x)", dtypes=FLOATS, grad=False),
    _unary("trunc", "tf.sign(x) * tf.floor(tf.abs(x))",
           dtypes=FLOATS, grad=False),
    _unary("rint", "tf.math.rint(x)", dtypes=FLOATS, grad=False, note="round half to even, as NumPy"),
    _unary("sin", "tf.sin(x)"),
    _unary("cos", "tf.cos(x)"),
    _unary("tan", "tf.tan(x)", Values.UNIT),
    _unary("arcsin", "tf.asin(x)", Values.UNIT),
    _unary("arccos", "tf.acos(x)", Values.UNIT),
    _unary("arctan", "tf.atan(x)"),
    _unary("sinh", "tf.sinh(x)", Values.UNIT),
    _unary("cosh", "tf.cosh(x)", Values.UNIT),
    _unary("tanh", "tf.tanh(x)"),
    _unary("arcsinh", "tf.asinh(x)"),
    _unary("arctanh", "tf.atanh(x)", Values.UNIT),
    _unary("deg2rad", "x * 0.017453292519943295"),
    _unary("rad2deg", "x * 57.29577951308232"),
    _unary("isnan", "tf.math.is_nan(x)", dtypes=FLOATS, cast=Cast.NONE, grad=False),
    _unary("isinf", "tf.math.is_inf(x)", dtypes=FLOATS, cast=Cast.NONE, grad=False),
    _unary("isfinite", "tf.math.is_finite(x)", dtypes=FLOATS, cast=Cast.NONE, grad=False),
    _unary("logical_not", "tf.logical_not(x)", dtypes=("bool",), grad=False),
    _binary("add", "tf.add(x1, x2)"),
    _binary("subtract", "tf.subtract(x1, x2)"),
    _binary("multiply", "tf.multiply(x1, x2)"),
    _binary("true_divide", "tf.divide(x1, x2)", Values.NONZERO),
    _binary("divide", "tf.divide(x1, x2)", Values.NONZERO),
    _binary("floor_divide", "tf.math.floordiv(x1, x2)", Values.NONZERO, grad=False),
    _binary("remainder", "tf.math.floormod(x1, x2)", Values.NONZERO, grad=False,
            note="sign follows the divisor, as NumPy and Python"),
    _binary("mod", "tf.math.floormod(x1, x2)", Values.NONZERO, grad=False),
    _binary("maximum", "tf.maximum(x1, x2)", grad=False),
    _binary("minimum", "tf.minimum(x1, x2)", grad=False),
    _binary("arctan2", "tf.atan2(x1, x2)", Values.NONZERO, dtypes=FLOATS),
    Pattern("numpy.hypot", examples=("np.hypot(a, b)", "np.hypot(a, 2)"), lower=lambda call: (
        f"tf.sqrt(tf.square({call.tensor('x1')}) + tf.square({call.tensor('x2')}))"), handles=("x1", "x2"),
        domain=Domain(dtypes=FLOATS)),
    _binary("bitwise_and", "tf.bitwise.bitwise_and(x1, x2)", dtypes=INTS + ("bool",), grad=False),
    _binary("bitwise_or", "tf.bitwise.bitwise_or(x1, x2)", dtypes=INTS + ("bool",), grad=False),
    _binary("bitwise_xor", "tf.bitwise.bitwise_xor(x1, x2)", dtypes=INTS + ("bool",), grad=False),
    _unary("invert", "tf.bitwise.invert(x)", dtypes=INTS, grad=False),
    _binary("less", "tf.less(x1, x2)", dtypes=NUMERIC + ("bool",), grad=False, cast=Cast.COMMON),
    _binary("less_equal", "tf.less_equal(x1, x2)", dtypes=NUMERIC + ("bool",), grad=False, cast=Cast.COMMON),
    _binary("greater", "tf.greater(x1, x2)", dtypes=NUMERIC + ("bool",), grad=False, cast=Cast.COMMON),
    _binary("greater_equal", "tf.greater_equal(x1, x2)", dtypes=NUMERIC + ("bool",), grad=False, cast=Cast.COMMON),
    _binary("equal", "tf.equal(x1, x2)", dtypes=ALL, grad=False, cast=Cast.COMMON),
    _binary("not_equal", "tf.not_equal(x1, x2)", dtypes=ALL, grad=False, cast=Cast.COMMON),
    _binary("logical_and", "tf.logical_and(x1, x2)", dtypes=("bool",), grad=False),
    _binary("logical_or", "tf.logical_or(x1, x2)", dtypes=("bool",), grad=False),
    _binary("logical_xor", "tf.math.logical_xor(x1, x2)", dtypes=("bool",), grad=False),
    Pattern("numpy.clip", examples=("np.clip(a, -0.5, 0.5)", "np.clip(a, 0, None)", "a.clip(-1, 1)"),
            lower=_clip, handles=("a", "a_min", "a_max"), arrays=("a", "a_min", "a_max"),
            domain=Domain(grad=False)),
    Pattern("numpy.where", examples=("np.where(a > 0, a, b)", "np.where(a > 0, a, 0)"),
            lower=_where, handles=("condition", "x", "y"), arrays=("x", "y"), cast=Cast.COMMON,
            domain=Domain(grad=False)),
)

PATTERNS = PATTERNS + (
    next(p for p in PATTERNS if p.numpy == "numpy.clip").as_method("clip", ("a.clip(-1, 1)",)),
)
