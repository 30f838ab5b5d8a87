"""Array creation: zeros/ones/full/eye/arange, their *_like forms, array/asarray, astype.

NumPy's default dtype is float64 (TF's is float32), and `arange` of Python ints is int64 (TF's
`tf.range` is int32): the dtype is always written out from NumPy's result.
"""
from rewriter.facts import Kind, tf_name
from rewriter.pattern import ALL, NUMERIC, Batch, Cast, Domain, Pattern

FAMILY_CODE = "NP4"

_CREATE = Domain(dtypes=NUMERIC, ranks=(1, 2), grad=False)


def _dtype(call):
    return tf_name(call.result.dtype)


def _shape(call, name="shape"):
    fact = call.fact(name)
    return f"[{call.text(name)}]" if fact.kind is Kind.SCALAR else call.text(name)


def _filled(tf_fn):
    def lower(call):
        return f"{tf_fn}({_shape(call)}, dtype={_dtype(call)})"

    lower.__doc__ = f"{tf_fn} with NumPy's dtype (float64 unless given)"
    return lower


def _like(tf_fn):
    def lower(call):
        name = "a" if "a" in call.args else "prototype"
        a = call.text(name)
        if call.fact(name).dtype == call.result.dtype:
            return f"{tf_fn}({a})"
        return f"{tf_fn}({a}, dtype={_dtype(call)})"

    lower.__doc__ = f"{tf_fn}, keeping NumPy's dtype"
    return lower


def _full(call):
    """tf.fill with the fill value cast to NumPy's result dtype."""
    return f"tf.fill({_shape(call)}, tf.constant({call.text('fill_value')}, {_dtype(call)}))"


def _full_like(call):
    """tf.fill over the shape of `a`."""
    return f"tf.fill(tf.shape({call.text('a')}), tf.constant({call.text('fill_value')}, {_dtype(call)}))"


def _eye(call):
    """tf.eye; NumPy's diagonal offset k has no TF argument, so k != 0 is refused."""
    if call.const("k", 0) != 0:
        call.refuse("k != 0 is not rewritten")
    cols = f", {call.text('M')}" if call.given("M") and call.const("M", 0) is not None else ""
    return f"tf.eye({call.text('N')}{cols}, dtype={_dtype(call)})"


def _identity(call):
    """tf.eye(n) with NumPy's dtype."""
    return f"tf.eye({call.text('n')}, dtype={_dtype(call)})"


def _arange(call):
    """tf.range with NumPy's dtype: int64 for Python ints, float64 for floats."""
    parts = [call.text(n) for n in ("start", "stop", "step") if call.given(n) and not
             (call.fact(n).known and call.fact(n).value is None)]
    return f"tf.range({', '.join(parts)}, dtype={_dtype(call)})"


def _linspace(call):
    """tf.linspace in NumPy's dtype; endpoint=False and retstep are refused."""
    if not call.const("endpoint", True) or call.const("retstep", False):
        call.refuse("endpoint=False or retstep=True are not rewritten")
    if call.given("axis") and call.const("axis", 0) != 0:
        call.refuse("axis != 0 is not rewritten")
    dtype = _dtype(call)
    num = call.text("num") if call.given("num") else "50"
    if call.result.dtype.kind != "f":
        call.refuse("integer linspace is not rewritten")
    return f"tf.linspace(tf.constant({call.text('start')}, {dtype}), tf.constant({call.text('stop')}, {dtype}), {num})"


def _array(call):
    """np.array / np.asarray: a tensor in NumPy's dtype (a copy in NumPy is a new value in TF)."""
    obj = call.args["object"] if "object" in call.args else call.args["a"]
    if obj.fact.kind is Kind.ARRAY:
        if obj.fact.dtype == call.result.dtype:
            return obj.text if not obj.changed else obj.text
        return f"tf.cast({obj.text}, {_dtype(call)})"
    if obj.fact.kind is Kind.TUPLE and any(i.kind is Kind.ARRAY for i in obj.fact.items):
        items = [call.lowering.cast(i, call.result.dtype).text for i in obj.items]
        return f"tf.stack([{', '.join(items)}])"
    return f"tf.constant({obj.text}, dtype={_dtype(call)})"


def _astype(call):
    """tf.cast: float -> int truncates toward zero in both."""
    if call.fact("x").dtype == call.result.dtype:
        return f"tf.identity({call.text('x')})"
    return f"tf.cast({call.text('x')}, {_dtype(call)})"


PATTERNS = (
    Pattern("numpy.zeros", examples=("np.zeros(3)", "np.zeros((2, 3), dtype=np.int32)", "np.zeros(a.shape)"),
            lower=_filled("tf.zeros"), handles=("shape", "dtype"), cast=Cast.NONE, domain=_CREATE),
    Pattern("numpy.ones", examples=("np.ones(3)", "np.ones((2, 3), np.float32)"),
            lower=_filled("tf.ones"), handles=("shape", "dtype"), cast=Cast.NONE, domain=_CREATE),
    Pattern("numpy.empty", examples=("np.zeros_like(np.empty(3))", "np.empty((2, 3)).shape[0] + a"), lower=_filled("tf.zeros"), handles=("shape", "dtype"),
            cast=Cast.NONE, domain=_CREATE, note="uninitialised in NumPy; zeros in TF"),
    Pattern("numpy.full", examples=("np.full((2, 3), 7)", "np.full(3, 0.5, dtype=np.float32)"),
            lower=_full, handles=("shape", "fill_value", "dtype"), cast=Cast.NONE, domain=_CREATE),
    Pattern("numpy.zeros_like", examples=("np.zeros_like(a)", "np.zeros_like(a, dtype=np.float32)"),
            lower=_like("tf.zeros_like"), handles=("a", "dtype"), cast=Cast.NONE, domain=Domain(dtypes=ALL, grad=False)),
    Pattern("numpy.ones_like", examples=("np.ones_like(a)", "np.ones_like(a, dtype=np.float64)"),
            lower=_like("tf.ones_like"), handles=("a", "dtype"), cast=Cast.NONE, domain=Domain(dtypes=ALL, grad=False)),
    Pattern("numpy.empty_like", examples=("np.zeros_like(np.empty_like(a))",), lower=_like("tf.zeros_like"),
            handles=("prototype", "dtype"), cast=Cast.NONE, domain=Domain(dtypes=NUMERIC, grad=False)),
    Pattern("numpy.full_like", examples=("np.full_like(a, 3)",), lower=_full_like,
            handles=("a", "fill_value", "dtype"), cast=Cast.NONE, domain=Domain(dtypes=NUMERIC, grad=False)),
    Pattern("numpy.eye", examples=("np.eye(3)", "np.eye(3, dtype=np.int64)", "np.eye(2, 4)"),
            lower=_eye, handles=("N", "M", "k", "dtype"), cast=Cast.NONE, domain=_CREATE),
    Pattern("numpy.identity", examples=("np.identity(3)",), lower=_identity, handles=("n", "dtype"),
            cast=Cast.NONE, domain=_CREATE),
    Pattern("numpy.arange", examples=("np.arange(5)", "np.arange(1, 7, 2)", "np.arange(0.0, 1.0, 0.25)"),
            lower=_arange, handles=("start", "stop", "step", "dtype"), cast=Cast.NONE, domain=_CREATE,
            signature="(start=None, stop=None, step=None, dtype=None, *, device=None, like=None)",
            note="int64 for Python ints, as NumPy (tf.range gives int32)"),
    Pattern("numpy.linspace", examples=("np.linspace(0, 1, 5)", "np.linspace(-1.0, 1.0, num=7)"),
            lower=_linspace, handles=("start", "stop", "num", "endpoint", "retstep", "dtype", "axis"),
            cast=Cast.NONE, domain=_CREATE),
    Pattern("numpy.array", examples=("np.array(a)", "np.array([1, 2, 3])", "np.array([a, b])"),
            lower=_array, handles=("object", "dtype", "copy"), cast=Cast.NONE, domain=Domain(dtypes=ALL, grad=False)),
    Pattern("numpy.asarray", examples=("np.asarray(a)", "np.asarray(a, dtype=np.float64)"),
            lower=_array, handles=("a", "dtype"), cast=Cast.NONE, domain=Domain(dtypes=ALL, grad=False)),
    Pattern("numpy.astype", examples=("np.astype(a, np.float32)",), lower=_astype, handles=("x", "dtype", "copy"),
            cast=Cast.NONE, domain=Domain(dtypes=ALL, grad=False), note="float to int truncates toward zero in both"),
)

PATTERNS = PATTERNS + (
    next(p for p in PATTERNS if p.numpy == "numpy.astype").as_method(
        "astype", ("a.astype(np.float32)", "a.astype(int)", "a.astype('float64')", "a.astype(bool)")),
)
