"""Array creation: zeros/ones/full/eye/arange, their *_like forms, array/asarray, astype.

NumPy's default dtype is float64 (TF's is float32), and `arange` of Python ints is int64 (TF's
`tf.range` is int32): the dtype is always written out from NumPy's result.
"""
import math

import numpy as np

from rewriter.facts import Kind, tf_name
from rewriter.pattern import ALL, NUMERIC, Cast, Domain, Pattern

FAMILY_CODE = "NPC"

_CREATE = Domain(dtypes=NUMERIC, ranks=(1, 2), grad=False)
_CONST = Domain(dtypes=("float64",), ranks=(1,), grad=False)  # no array inputs: one run is enough
_SCALARS = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


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


def _number(value) -> str:
    """A Python number as source text: its repr, except for inf and NaN, which have no literal
    (`inf` would be a NameError); a NaN keeps its sign, as NumPy's -np.nan does."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "float('-nan')" if math.copysign(1.0, value) < 0 else "float('nan')"
        return "float('inf')" if value > 0 else "float('-inf')"
    return repr(value)


def _fill_value(call) -> str:
    """The fill value in NumPy's result dtype, converted as NumPy converts it (2.5 into an
    int array is 2): a constant is converted here, an array or tensor value is cast."""
    fact = call.fact("fill_value")
    if fact.known and isinstance(fact.value, (bool, int, float)):
        with np.errstate(over="ignore"):  # 1e300 into float32 is inf, in NumPy as here
            value = np.asarray(fact.value).astype(call.result.dtype).item()
        return f"tf.constant({_number(value)}, {_dtype(call)})"
    if fact.kind is Kind.ARRAY and fact.rank not in (0, None):
        call.refuse("an array fill value is not rewritten")
    return f"tf.cast({call.text('fill_value')}, {_dtype(call)})"


def _full(call):
    """tf.fill with the fill value in NumPy's result dtype."""
    return f"tf.fill({_shape(call)}, {_fill_value(call)})"


def _full_like(call):
    """tf.fill over the shape of `a`."""
    return f"tf.fill(tf.shape({call.text('a')}), {_fill_value(call)})"


def _eye(call):
    """tf.eye; a diagonal offset k (no TF argument) is the mask column - row == k."""
    has_m = call.given("M") and not (call.fact("M").known and call.fact("M").value is None)
    k = call.const("k", 0)
    if k == 0:
        cols = f", {call.text('M')}" if has_m else ""
        return f"tf.eye({call.text('N')}{cols}, dtype={_dtype(call)})"
    n = call.text("N")
    m = call.text("M") if has_m else n
    return f"tf.cast(tf.equal(tf.range({m}) - tf.range({n})[:, tf.newaxis], {k}), {_dtype(call)})"


def _identity(call):
    """tf.eye(n) with NumPy's dtype."""
    return f"tf.eye({call.text('n')}, dtype={_dtype(call)})"


def _tf_range_values(start, stop, step, dtype):
    """What tf.range's kernel computes: length ceil(|(limit - start) / delta|) and
    start + i * delta, both in the output dtype (None where TF raises)."""
    with np.errstate(all="ignore"):
        t = dtype.type
        s, l, d = t(start), t(stop), t(step)
        if d == 0 or (d > 0 and s > l) or (d < 0 and s < l):
            return None
        if dtype.kind in "iu":
            size = (abs(int(l) - int(s)) + abs(int(d)) - 1) // abs(int(d))
        else:
            size = int(np.ceil(np.abs((l - s) / d)))
        return s + np.arange(size).astype(dtype) * d


def _arange(call):
    """tf.range with NumPy's dtype (int64 for Python ints, float64 for floats). NumPy's
    length is ceil((stop - start) / step) in float64 and an empty range where TF raises; with
    constant arguments the TF result is checked against NumPy's at rewrite time."""
    names = [n for n in ("start", "stop", "step") if call.given(n) and not
             (call.fact(n).known and call.fact(n).value is None)]
    dtype = call.result.dtype
    facts = [call.fact(n) for n in names]
    if all(f.kind is Kind.SCALAR and f.known for f in facts):
        values = [f.value for f in facts]
        start, stop, step = (0, values[0], 1) if len(values) == 1 else (*values, 1)[:3]
        want = np.arange(start, stop, step, dtype=dtype)
        if want.size == 0:
            return f"tf.zeros([0], dtype={_dtype(call)})"
        got = _tf_range_values(start, stop, step, dtype)
        if got is not None and got.shape == want.shape and np.array_equal(got, want):
            return f"tf.range({', '.join(call.text(n) for n in names)}, dtype={_dtype(call)})"
        # NumPy fills start + i * delta with delta = dtype(start + step) - dtype(start).
        first = dtype.type(start)
        delta = dtype.type(start + step) - first
        with np.errstate(all="ignore"):
            mine = first + np.arange(want.size).astype(dtype) * delta
        if dtype.kind == "f" and np.array_equal(mine, want):
            return (f"tf.range({want.size}, dtype={_dtype(call)}) * {float(delta)!r} + {float(first)!r}")
        call.refuse("tf.range cannot reproduce NumPy's values for these arguments")
    if dtype.kind not in "iu" or any(f.kind is not Kind.SCALAR or f.pytype is not int for f in facts):
        call.refuse("only integer ranges with non-constant bounds are rewritten")
    step = call.const("step", 1) if "step" in names else 1
    if not isinstance(step, int) or step == 0:
        call.refuse("the step must be a non-zero integer constant")
    # NumPy gives an empty range where tf.range raises (stop on the wrong side of start).
    if len(names) == 1:
        return f"tf.range(tf.maximum({call.text('stop' if 'stop' in names else 'start')}, 0), dtype={_dtype(call)})"
    start, stop = call.text(names[0]), call.text(names[1])
    bound = f"tf.maximum({stop}, {start})" if step > 0 else f"tf.minimum({stop}, {start})"
    rest = f", {call.text('step')}" if "step" in names else ""
    return f"tf.range({start}, {bound}{rest}, dtype={_dtype(call)})"


def _spaced(call, start, stop, num, endpoint):
    """NumPy's linspace in float64 for constant bounds: i * step + start, the last value
    exactly `stop` when endpoint=True (num 0 and 1 included)."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, stop)):
        call.refuse("start and stop must be real constants")
    if not (math.isfinite(start) and math.isfinite(stop)):
        call.refuse("start and stop must be finite")
    if not isinstance(num, int) or num < 0:
        call.refuse("num must be a non-negative integer constant")
    start, stop = float(start), float(stop)
    if num == 0:
        return "tf.zeros([0], dtype=tf.float64)"
    if num == 1:
        return f"tf.constant([{start!r}], dtype=tf.float64)"
    div = num - 1 if endpoint else num
    step = (stop - start) / div
    if step == 0 and stop != start:
        call.refuse("the step underflows to zero")
    body = num - 1 if endpoint else num
    values = f"tf.range({body}, dtype=tf.float64) * {_number(step)} + {start!r}"
    if endpoint:
        values = f"tf.concat([{values}, [{stop!r}]], 0)"
    return values


def _final(call, values):
    """Cast float64 values to NumPy's result dtype (integers are floored first, as NumPy)."""
    dtype = call.result.dtype
    if dtype == np.float64:
        return values
    if dtype.kind in "iu":
        return f"tf.cast(tf.floor({values}), {_dtype(call)})"
    return f"tf.cast({values}, {_dtype(call)})"


def _linspace(call):
    """NumPy's own formula (i * step + start, last value exactly stop) for constant bounds;
    tf.linspace differs for endpoint=False and num=1 and has no integer floor."""
    if call.const("retstep", False):
        call.refuse("retstep=True is not rewritten")
    if call.const("axis", 0) != 0:
        call.refuse("axis != 0 is not rewritten")
    values = _spaced(call, call.const("start"), call.const("stop"), call.const("num", 50),
                     call.const("endpoint", True))
    return _final(call, values)


def _logspace(call):
    """base ** linspace(...) in float64, as NumPy."""
    if call.const("axis", 0) != 0:
        call.refuse("axis != 0 is not rewritten")
    base = call.const("base", 10.0)
    if not isinstance(base, (int, float)) or isinstance(base, bool):
        call.refuse("base must be a real constant")
    values = _spaced(call, call.const("start"), call.const("stop"), call.const("num", 50),
                     call.const("endpoint", True))
    return _final(call, f"tf.pow(tf.constant({float(base)!r}, tf.float64), {values})")


def _geomspace(call):
    """NumPy's geomspace for constant bounds of one sign: 10 ** linspace(log10 start,
    log10 stop) with the end values set exactly to start and stop."""
    if call.const("axis", 0) != 0:
        call.refuse("axis != 0 is not rewritten")
    start, stop = call.const("start"), call.const("stop")
    num, endpoint = call.const("num", 50), call.const("endpoint", True)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, stop)):
        call.refuse("start and stop must be real constants")
    start, stop = float(start), float(stop)
    if start == 0 or stop == 0 or (start < 0) != (stop < 0) or not (math.isfinite(start) and math.isfinite(stop)):
        call.refuse("start and stop must be finite and of one sign")
    if not isinstance(num, int) or num < 0:
        call.refuse("num must be a non-negative integer constant")
    sign = -1.0 if start < 0 else 1.0
    lo, hi = float(np.log10(start * sign)), float(np.log10(stop * sign))
    if num == 0:
        return _final(call, "tf.zeros([0], dtype=tf.float64)")
    last = [stop * sign] if endpoint and num > 1 else []
    inner = num - 1 - len(last)
    div = num - 1 if endpoint else num
    parts = [f"tf.constant([{start * sign!r}], tf.float64)"]
    if inner > 0:
        step = (hi - lo) / div
        parts.append(f"tf.pow(tf.constant(10.0, tf.float64), tf.range(1, {inner + 1}, dtype=tf.float64) * {step!r} + {lo!r})")
    if last:
        parts.append(f"tf.constant([{last[0]!r}], tf.float64)")
    values = parts[0] if len(parts) == 1 else f"tf.concat([{', '.join(parts)}], 0)"
    if sign < 0:
        values = f"-{values}" if values.startswith("tf.") else f"-({values})"
    return _final(call, values)


def _tri(call):
    """Ones on and below diagonal k: column <= row + k."""
    n = call.text("N")
    m = n if not call.given("M") or (call.fact("M").known and call.fact("M").value is None) else call.text("M")
    k = call.const("k", 0)
    return f"tf.cast(tf.range({m}) <= tf.range({n})[:, tf.newaxis] + {k}, {_dtype(call)})"


def _copy(call):
    """A copy in NumPy is a new value; TF tensors are immutable, so tf.identity."""
    name = "a" if "a" in call.args else "self"
    return f"tf.identity({call.text(name)})"


def _contiguous(call):
    """np.ascontiguousarray: like asarray, but a 0-d input becomes 1-d (ndim >= 1)."""
    text = _array(call)
    if call.fact("a").kind is Kind.ARRAY and call.fact("a").rank == 0:
        return f"tf.reshape({text}, [1])"
    return text


def _scalar_type(name):
    def lower(call):
        dtype = call.result.dtype
        if not call.given("value"):
            return f"tf.zeros([], {_dtype(call)})"
        value = call.args["value"]
        fact = value.fact
        if fact.kind is Kind.ARRAY:  # a cast also to the same dtype: one rewrite for every input dtype
            return f"tf.cast({value.text}, {_dtype(call)})"
        if fact.kind is Kind.SCALAR and fact.known:
            converted = np.dtype(dtype).type(fact.value).item()
            return f"tf.constant({_number(converted)}, {_dtype(call)})"
        if fact.kind is Kind.SCALAR and fact.tensor:
            return f"tf.cast({value.text}, {_dtype(call)})"
        if fact.kind is Kind.SCALAR and fact.pytype in (int, float, bool):
            source = {int: "tf.int64", float: "tf.float64", bool: "tf.bool"}[fact.pytype]
            return f"tf.cast(tf.constant({value.text}, {source}), {_dtype(call)})"
        call.refuse("the argument is not a number or an array")

    lower.__doc__ = f"np.{name}(x) is a cast to {name} (tf.cast; constants converted at rewrite time)"
    return lower


def _meshgrid(call):
    """tf.meshgrid, which needs inputs of one dtype (NumPy keeps each input's)."""
    items = call.args["xi"].items or []
    dtypes = {i.fact.dtype for i in items}
    if not items or any(i.fact.kind is not Kind.ARRAY for i in items) or len(dtypes) != 1:
        call.refuse("needs arrays of one dtype")
    indexing = call.const("indexing", "xy")
    if indexing not in ("xy", "ij"):
        call.refuse(f"indexing={indexing!r}")
    extra = ", indexing='ij'" if indexing == "ij" else ""
    return f"tuple(tf.meshgrid({call.text('xi')}{extra}))"


def _array(call):
    """np.array / np.asarray: a tensor in NumPy's dtype (a copy in NumPy is a new value in TF)."""
    obj = call.args["object"] if "object" in call.args else call.args["a"]
    if obj.fact.kind is Kind.ARRAY:
        if obj.fact.dtype == call.result.dtype and not call.given("dtype"):
            return obj.text
        return f"tf.cast({obj.text}, {_dtype(call)})"  # also to the same dtype: one rewrite for all
    if obj.fact.kind is Kind.TUPLE and any(i.kind is Kind.ARRAY for i in obj.fact.items):
        items = [call.lowering.cast(i, call.result.dtype).text for i in obj.items]
        return f"tf.stack([{', '.join(items)}])"
    return f"tf.constant({obj.text}, dtype={_dtype(call)})"


def _astype(call):
    """tf.cast: float -> int truncates toward zero in both. Also when the dtype is already the
    one asked for (tf.cast then returns its input), so one rewrite serves every input dtype."""
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
    Pattern("numpy.eye", examples=("np.eye(3)", "np.eye(3, dtype=np.int64)", "np.eye(2, 4)", "np.eye(3, 4, k=-1)",
                                   "np.eye(4, k=2, dtype=bool)"),
            lower=_eye, handles=("N", "M", "k", "dtype"), cast=Cast.NONE, domain=_CREATE),
    Pattern("numpy.identity", examples=("np.identity(3)",), lower=_identity, handles=("n", "dtype"),
            cast=Cast.NONE, domain=_CREATE),
    Pattern("numpy.arange", examples=("np.arange(5)", "np.arange(1, 7, 2)", "np.arange(0.0, 1.0, 0.25)",
                                      "np.arange(0, 1, 0.1)", "np.arange(10.1, 3.2, -0.3)",
                                      "np.arange(5, 0) + np.arange(a.shape[0]) + np.arange(a.shape[0], 2, -1)"),
            lower=_arange, handles=("start", "stop", "step", "dtype"), cast=Cast.NONE, domain=_CREATE,
            signature="(start=None, stop=None, step=None, dtype=None, *, device=None, like=None)",
            note="int64 for Python ints, as NumPy (tf.range gives int32)"),
    Pattern("numpy.linspace", examples=("np.linspace(0, 1, 5)", "np.linspace(-1.0, 1.0, num=7, endpoint=False)",
                                        "np.linspace(2, 3, 1) + np.linspace(0, 1, 0).size + np.linspace(-3, 7, 6, dtype=np.int32)"),
            lower=_linspace, handles=("start", "stop", "num", "endpoint", "retstep", "dtype", "axis"),
            cast=Cast.NONE, domain=_CONST, note="NumPy's formula: i * step + start, last value exactly stop"),
    Pattern("numpy.array", examples=("np.array(a)", "np.array([1, 2, 3])", "np.array([a, b])"),
            lower=_array, handles=("object", "dtype", "copy"), cast=Cast.NONE, domain=Domain(dtypes=ALL, grad=False)),
    Pattern("numpy.asarray", examples=("np.asarray(a)", "np.asarray(a, dtype=np.float64)"),
            lower=_array, handles=("a", "dtype"), cast=Cast.NONE, domain=Domain(dtypes=ALL, grad=False)),
    Pattern("numpy.astype", examples=("np.astype(a, np.float32)",), lower=_astype, handles=("x", "dtype", "copy"),
            cast=Cast.NONE, domain=Domain(dtypes=ALL, grad=False), note="float to int truncates toward zero in both"),
)

_CAST_DOMAIN = Domain(dtypes=("float32", "float64", "int32", "int64", "bool"), ranks=(0, 1), grad=False)

PATTERNS = PATTERNS + (
    next(p for p in PATTERNS if p.numpy == "numpy.astype").as_method(
        "astype", ("a.astype(np.float32)", "a.astype(int)", "a.astype('float64')", "a.astype(bool)")),
)
PATTERNS = PATTERNS + (
    Pattern("numpy.logspace", examples=("np.logspace(0, 2, 5)", "np.logspace(-1.0, 1.0, 4, endpoint=False, base=2)"),
            lower=_logspace, handles=("start", "stop", "num", "endpoint", "base", "dtype", "axis"),
            cast=Cast.NONE, domain=_CONST, note="base ** linspace(...) in float64, as NumPy"),
    Pattern("numpy.geomspace", examples=("np.geomspace(1, 1000, 4)", "np.geomspace(-2.0, -0.5, 5, endpoint=False)"),
            lower=_geomspace, handles=("start", "stop", "num", "endpoint", "dtype", "axis"),
            cast=Cast.NONE, domain=_CONST, note="end values exactly start and stop, as NumPy"),
    Pattern("numpy.tri", examples=("np.tri(3)", "np.tri(3, 5, k=1, dtype=np.int32)"), lower=_tri,
            handles=("N", "M", "k", "dtype"), cast=Cast.NONE, domain=_CONST),
    Pattern("numpy.asanyarray", examples=("np.asanyarray(a)", "np.asanyarray(a, dtype=np.float64)"),
            lower=_array, handles=("a", "dtype", "copy"), cast=Cast.NONE, domain=Domain(dtypes=ALL, grad=False)),
    Pattern("numpy.ascontiguousarray", examples=("np.ascontiguousarray(a)", "np.ascontiguousarray(a, dtype=np.float32)"),
            lower=_contiguous, handles=("a", "dtype"), cast=Cast.NONE, domain=Domain(dtypes=ALL, grad=False),
            note="a 0-d input becomes 1-d, as in NumPy"),
    *(Pattern(f"numpy.{name}", examples=(f"np.{name}(a)", f"np.{name}(2.75)", f"np.{name}(a.shape[0])"),
              signature="(value=0, /)", lower=_scalar_type(name), handles=("value",), arrays=("value",),
              cast=Cast.NONE, domain=_CAST_DOMAIN, note="a cast (float to int truncates toward zero in both)")
      for name in _SCALARS),
)
