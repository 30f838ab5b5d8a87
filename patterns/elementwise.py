"""Elementwise math: ufuncs and their operator forms.

Inputs are cast to NumPy's result dtype first (`Cast.RESULT`), which is where NumPy's
promotion (int -> float64 for `sqrt`, int8 -> float16, weak Python scalars) meets TF's
refusal to mix dtypes.

Three things recur below:
- TF has no CPU kernel for many ops on int8/int16/uint8/float16. Where the result is still
  exactly NumPy's, the op runs in a wider dtype and is cast back (NumPy itself computes its
  float16 loops in float32, so "float16 via float32" is NumPy's own algorithm).
- Python operators (`a + b`, `-a`, `a < b`) are spliced by the engine as TF operators and
  only take their *domain* from the ufunc patterns here: a dtype whose operator form would
  fail or differ in TF is left out of that pattern's domain even if the function form
  could be lowered (bool `<`, uint8 unary `-`, float `//`).
- Some lowerings need an argument twice (`tf.where(x == 0, ..., x)`); they do so only when
  the argument's text is cheap (a name, a literal, a cast of a name), else they refuse.
"""
import ast
import math

import numpy as np

from dataclasses import replace

from rewriter.facts import Fact, Kind, tf_name
from rewriter.pattern import ALL, COMPLEX, FLOATS, INTS, NUMERIC, Batch, Cast, Domain, Pattern, Values, logical_not

FAMILY_CODE = "NPE"

_REAL = Domain(dtypes=NUMERIC)
_FLOAT = Domain(dtypes=FLOATS + INTS)


def _unary(name, tf, values=Values.REAL, dtypes=NUMERIC, cast=Cast.RESULT, note="", grad=True):
    return Pattern(f"numpy.{name}", examples=(f"np.{name}(a)",), tf=tf, cast=cast,
                   domain=Domain(values=values, dtypes=dtypes, grad=grad), note=note)


def _binary(name, tf, values=Values.REAL, dtypes=NUMERIC, note="", grad=True, cast=Cast.RESULT, examples=(),
            only=None):
    examples = only or (f"np.{name}(a, b)", f"np.{name}(a, 2)") + examples
    return Pattern(f"numpy.{name}", examples=examples, tf=tf,
                   cast=cast, domain=Domain(values=values, dtypes=dtypes, grad=grad), note=note)


# -- helpers for lowering functions -----------------------------------------------------------

def _cheap(text: str) -> bool:
    """Text that may appear twice in a rewrite: a name, a literal, an attribute of a name, or
    a cast/constant of those (recomputing it costs nothing)."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return False
    return _cheap_node(node)


def _cheap_node(node) -> bool:
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return True
    if isinstance(node, ast.Attribute):
        return _cheap_node(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and ast.unparse(node.func) in (
            "tf.cast", "tf.constant"):
        return all(_cheap_node(a) for a in node.args) and all(_cheap_node(k.value) for k in node.keywords)
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "bool":
        return all(_cheap_node(a) for a in node.args)
    return False


def _bind(texts, build):
    """`build(*names)` over argument texts that it uses more than once. Cheap texts are used
    as they are; any other is evaluated once, bound by an immediately called lambda:
    ``(lambda x: tf.where(tf.math.is_nan(x), 0.0, x))(a / b)``."""
    used = set()
    for text in texts:
        try:
            used |= {n.id for n in ast.walk(ast.parse(text.strip(), mode="eval")) if isinstance(n, ast.Name)}
        except SyntaxError:
            pass
    params, values, names = [], [], []
    for text in texts:
        if _cheap(text):
            names.append(text)
            continue
        name = next(n for n in (*"xyzuvw", *(f"x{i}" for i in range(99))) if n not in used and n not in params)
        params.append(name)
        values.append(text)
        names.append(name)
    body = build(*names)
    if not params:
        return body
    return f"(lambda {', '.join(params)}: {body})({', '.join(values)})"


def _operand(call, name, dtype) -> str:
    """Argument `name` as a tensor of `dtype` (Python literals become typed constants)."""
    from rewriter.calls import literal_tensor

    value = call.args[name]
    if value.fact.kind is Kind.SCALAR and not value.fact.tensor:
        return literal_tensor(value.text, dtype)
    if value.fact.kind not in (Kind.ARRAY, Kind.SCALAR):
        call.refuse(f"`{name}` must be an array or a number")
    return call.cast(name, dtype)


def _compute_dtype(dtype) -> np.dtype:
    """Where a float16 result is computed (NumPy's float16 loops run in float32 too)."""
    dtype = np.dtype(dtype)
    return np.dtype("float32") if dtype == np.float16 else dtype


def _finish(text: str, compute, result) -> str:
    return text if np.dtype(compute) == np.dtype(result) else f"tf.cast({text}, {tf_name(result)})"


def _lit(value) -> str:
    """A float constant as Python source that round-trips exactly."""
    value = float(value)
    if math.isinf(value):
        return "float('inf')" if value > 0 else "float('-inf')"
    if math.isnan(value):
        return "float('nan')"
    return repr(value)


def _math(name, body, values=Values.REAL, dtypes=FLOATS + INTS, note="", grad=True, wide=False, examples=None):
    """A unary float function as a format string over `{x}` (and `{dt}`, the compute dtype).

    float16 is computed in float32 and rounded back, as NumPy does; with `wide`, float16 and
    float32 are computed in float64, which makes the rounded result NumPy's own."""

    def lower(call):
        result = call.result.dtype
        compute = np.dtype("float64") if wide and result in (np.float16, np.float32) else _compute_dtype(result)
        x = _operand(call, "x", compute)
        return _finish(body.format(x=x, dt=tf_name(compute)), compute, result)

    lower.__doc__ = body.format(x="x", dt="dtype") + " (float16 computed in float32, as NumPy)"
    return Pattern(f"numpy.{name}", examples=examples or (f"np.{name}(a)",), lower=lower, cast=Cast.NONE,
                   handles=("x",), domain=Domain(values=values, dtypes=dtypes, grad=grad), note=note)


def _exact_at_integers(base_text, log_of):
    """log2/log10/cbrt whose exact values (log2(8) == 3.0, cbrt(27) == 3.0) must come out
    exact, as in NumPy; `log_of(x)` is the plain formula, accurate to an ulp or two."""

    def lower(call):
        result = call.result.dtype
        if result in (np.float16, np.float32):
            # Computed in float64, rounding to the narrower dtype absorbs the formula's error.
            x = _operand(call, "x", "float64")
            return f"tf.cast({log_of(x)}, {tf_name(result)})"
        def snap(x):
            y = log_of(x)
            return _bind([y], lambda y: f"tf.where({base_text(f'tf.round({y})', x)}, tf.round({y}), {y})")

        return _bind([_operand(call, "x", result)], snap)

    return lower


def _log_lower(base, ln_base):
    def snap(r, x):
        return f"tf.pow(tf.constant({base}, {'tf.float64'}), {r}) == {x}"

    lower = _exact_at_integers(snap, lambda x: f"tf.math.log({x}) / {ln_base!r}")
    lower.__doc__ = (f"tf.math.log(x) / ln({base}), snapped to the integer where x is an exact power of {base} "
                     "(float16/float32 computed in float64)")
    return lower


def _cbrt_lower():
    lower = _exact_at_integers(lambda r, x: f"{r} * {r} * {r} == {x}",
                               lambda x: f"tf.sign({x}) * tf.pow(tf.abs({x}), 1 / 3)")
    lower.__doc__ = ("sign(x) * |x| ** (1/3), snapped to the integer for exact cubes "
                     "(float16/float32 computed in float64)")
    return lower


def _is_int(dtype) -> bool:
    return np.dtype(dtype).kind in "iub"


def _identity_for_ints(float_body, doc):
    """floor/ceil/trunc/fix: NumPy keeps integer and bool dtypes (the values are unchanged)."""

    def lower(call):
        x = call.text("x")
        if _is_int(call.result.dtype):
            return x
        return float_body(call, x)

    lower.__doc__ = doc
    return lower


def _trunc_text(call, x):
    return _bind([x], lambda x: f"tf.sign({x}) * tf.floor(tf.abs({x}))")


def _rint(call):
    """tf.math.rint (half to even); float16 rounds in float32, ints are already integral."""
    result = call.result.dtype
    x = call.text("x")
    if call.fact("x").kind is Kind.ARRAY and _is_int(call.fact("x").dtype):
        return x  # already cast to NumPy's float result: rint of an integer is itself
    if result == np.float16:
        return f"tf.cast(tf.math.rint(tf.cast({x}, tf.float32)), tf.float16)"
    return f"tf.math.rint({x})"


def _round(call):
    """np.round(a, decimals) the way NumPy computes it: rint(a * 10**d) / 10**d in a's dtype
    (rint(a / 10**-d) * 10**-d for negative d; integers go through float64 and back)."""
    decimals = call.const("decimals", 0)
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        call.refuse("`decimals` must be an integer constant")
    result = call.result.dtype
    a = call.text("a")
    if _is_int(result):
        if decimals >= 0:
            return a
        if call.fact("a").dtype.kind == "b":
            call.refuse("rounding booleans to tens is not rewritten")
        scale = _lit(10.0 ** -decimals)
        return f"tf.cast(tf.math.rint(tf.cast({a}, tf.float64) / {scale}) * {scale}, {tf_name(result)})"
    limit = {np.dtype("float16"): 4, np.dtype("float32"): 22, np.dtype("float64"): 22}.get(result)
    if limit is None:
        call.refuse(f"rounding {result} is not rewritten")
    if abs(decimals) > limit:
        call.refuse(f"decimals={decimals} is beyond what {result} rounds faithfully here")

    def rint(text):
        if result == np.float16:
            return f"tf.cast(tf.math.rint(tf.cast({text}, tf.float32)), tf.float16)"
        return f"tf.math.rint({text})"

    if decimals == 0:
        return rint(a)
    scale = _lit(10.0 ** abs(decimals))
    if decimals > 0:
        return f"{rint(f'{a} * {scale}')} / {scale}"
    return f"{rint(f'{a} / {scale}')} * {scale}"


def _absolute(call):
    """tf.abs; uint8 and bool are their own magnitude (TF has no kernel for them)."""
    x = call.text("x")
    dtype = call.fact("x").dtype if call.fact("x").kind is Kind.ARRAY else None
    if dtype is not None and dtype.kind in "ub":
        return x
    return f"tf.abs({x})"


def _sign(call):
    """tf.sign; for uint8 (no TF kernel) the sign is min(x, 1)."""
    x = call.text("x")
    if call.result.dtype == np.uint8:
        return f"tf.minimum({x}, 1)"
    return f"tf.sign({x})"


def _logical_or_bitwise(logical, bitwise):
    def lower(call):
        x1, x2 = call.text("x1"), call.text("x2")
        if call.result.dtype.kind == "b":
            return f"{logical}({x1}, {x2})"
        return f"{bitwise}({x1}, {x2})"

    lower.__doc__ = f"{bitwise}; on booleans {logical} (TF's bitwise ops take integers only)"
    return lower


def _invert(call):
    """tf.bitwise.invert; on booleans tf.logical_not (NumPy's `~` of a bool is `not`)."""
    if call.result.dtype.kind == "b":
        return logical_not(call.text('x'))
    return f"tf.bitwise.invert({call.text('x')})"


def _multiply(call):
    """tf.multiply; bool * bool is logical and in NumPy (TF's Mul has no bool kernel)."""
    if call.result.dtype.kind == "b":
        return f"tf.logical_and({call.text('x1')}, {call.text('x2')})"
    return f"tf.multiply({call.text('x1')}, {call.text('x2')})"


def _extremum(tf_fn, logical):
    def lower(call):
        if call.result.dtype.kind == "b":
            return f"{logical}({call.text('x1')}, {call.text('x2')})"
        return f"{tf_fn}({call.text('x1')}, {call.text('x2')})"

    lower.__doc__ = f"{tf_fn} (NaN propagates in both); booleans use {logical}"
    return lower


def _nan_ignoring(op, tf_fn, logical):
    def lower(call):
        x1, x2 = call.text("x1"), call.text("x2")
        dtype = call.result.dtype
        if dtype.kind == "b":
            return f"{logical}({x1}, {x2})"
        if dtype.kind in "iu":
            return f"{tf_fn}({x1}, {x2})"
        # NumPy's loop, literally: (x1 >= x2 or isnan(x2)) ? x1 : x2.
        return _bind([x1, x2], lambda x1, x2:
                     f"tf.where(tf.logical_or({x1} {op} {x2}, tf.math.is_nan({x2})), {x1}, {x2})")

    lower.__doc__ = f"where(x1 {op} x2 or isnan(x2), x1, x2): NaN is ignored unless both are NaN"
    return lower


def _float_check(name):
    def lower(call):
        x = call.text("x")
        if _is_int(call.fact("x").dtype):
            value = "ones_like" if name == "is_finite" else "zeros_like"
            return f"tf.{value}({x}, dtype=tf.bool)"
        return f"tf.math.{name}({x})"

    lower.__doc__ = f"tf.math.{name}; integers are never NaN or infinite"
    return lower


def _signed_inf(sign):
    def lower(call):
        x = call.text("x")
        if _is_int(call.fact("x").dtype):
            return f"tf.zeros_like({x}, dtype=tf.bool)"
        return f"tf.equal({x}, float('{sign}inf'))"

    lower.__doc__ = f"x == {sign}inf; integers never are"
    return lower


def _signbit(call):
    """The sign bit through a bitcast (true for -0.0 and negative NaN, as NumPy); x < 0 for ints."""
    x = call.text("x")
    dtype = call.fact("x").dtype
    if _is_int(dtype):
        return f"tf.less({x}, 0)"
    bits = {"float16": "tf.int16", "float32": "tf.int32", "float64": "tf.int64"}[dtype.name]
    return f"tf.less(tf.bitcast({x}, {bits}), 0)"


def _copysign(call):
    """|x1| with the sign bit of x2 (a bitcast sees -0.0 and negative NaN, as NumPy)."""
    result = call.result.dtype
    x2 = _operand(call, "x2", result)
    bits = {"float16": "tf.int16", "float32": "tf.int32", "float64": "tf.int64"}[result.name]
    return _bind([f"tf.abs({_operand(call, 'x1', result)})"], lambda m:
                 f"tf.where(tf.bitcast({x2}, {bits}) < 0, -{m}, {m})")


def _heaviside(call):
    """0 below zero, 1 above, x2 at zero, NaN for NaN: (sign(x1) + 1) / 2 away from zero."""
    x2 = call.tensor("x2")
    return _bind([call.text("x1")], lambda x1: f"tf.where({x1} == 0, {x2}, (tf.sign({x1}) + 1) / 2)")


def _sinc(call):
    """sin(pi x) / (pi x) in NumPy's dtype, 1 at x == 0 (NumPy divides sin(eps) by eps there)."""
    one = f"tf.constant(1, {tf_name(call.result.dtype)})"
    return _bind([call.text("x")], lambda x: _bind(
        [f"{x} * {_lit(np.pi)}"], lambda y: f"tf.where({y} == 0, {one}, tf.sin({y}) / {y})"))


def _hypot(call):
    """sqrt(x1**2 + x2**2) computed one precision up (float16 in float32, float32 in float64),
    so squares neither overflow nor underflow and the rounded result is NumPy's."""
    result = call.result.dtype
    wide = {np.dtype("float16"): "float32", np.dtype("float32"): "float64"}.get(result)
    if wide is None:
        call.refuse(f"{result} would overflow in the squares; NumPy's hypot does not")
    x1, x2 = _operand(call, "x1", wide), _operand(call, "x2", wide)
    return f"tf.cast(tf.sqrt(tf.square({x1}) + tf.square({x2})), {tf_name(result)})"


def _logaddexp(base):
    def lower(call):
        result = call.result.dtype
        compute = _compute_dtype(result)
        def build(x1, x2):
            # Equal inputs give a zero difference (also two equal infinities, where x1 - x2
            # would be NaN); NaN still propagates through tf.maximum.
            diff = f"tf.abs(tf.where({x1} == {x2}, tf.zeros_like({x1}), {x1} - {x2}))"
            if base == "e":
                return f"tf.maximum({x1}, {x2}) + tf.math.log1p(tf.exp(-{diff}))"
            two = f"tf.constant(2, {tf_name(compute)})"
            return f"tf.maximum({x1}, {x2}) + tf.math.log1p(tf.pow({two}, -{diff})) * {_lit(1 / math.log(2))}"

        text = _bind([_operand(call, "x1", compute), _operand(call, "x2", compute)], build)
        return _finish(text, compute, result)

    lower.__doc__ = (f"max + log1p({'exp' if base == 'e' else '2 **'}(-|x1 - x2|)), NumPy's formula "
                     "(float16 in float32)")
    return lower


def _fmod(call):
    """tf.truncatemod (C fmod: the sign of the dividend); dtypes without a TF kernel go
    through int32/float32 and back, which is exact (|result| < |divisor|). Integers by zero
    give 0, as NumPy (TF raises)."""
    result = call.result.dtype
    wide = {"int8": "int32", "int16": "int32", "uint8": "int32", "float16": "float32"}.get(result.name)
    if wide is None:
        return _int_division("tf.truncatemod")(call)
    x1, x2 = _operand(call, "x1", wide), _operand(call, "x2", wide)
    return f"tf.cast({_zero_safe('tf.truncatemod', call, x1, x2, np.dtype(wide))}, {tf_name(result)})"


def _int_division(op):
    """`op` (floordiv, floormod, truncatemod) as NumPy computes it for integers: a zero
    divisor gives 0 (NumPy warns; TF raises "Integer division by zero")."""

    def lower(call):
        return _zero_safe(op, call, call.text("x1"), call.text("x2"), call.result.dtype)

    lower.__doc__ = f"{op}; integers by zero give 0, as NumPy (TF raises)"
    return lower


def _zero_safe(op, call, x1, x2, dtype) -> str:
    divisor = call.fact("x2")
    if not _is_int(dtype) or (divisor.known and np.all(np.asarray(divisor.value) != 0)):
        return f"{op}({x1}, {x2})"
    return _bind([x2], lambda d: f"{op}({x1}, tf.where({d} == 0, tf.ones_like({d}), {d})) "
                                 f"* tf.cast({d} != 0, {tf_name(dtype)})")


def _int_power(call, base, exponent):
    """x ** k for a constant k >= 0 in integers: TF's integer pow wraps like NumPy's."""
    if not (call.fact("x2").known and isinstance(call.fact("x2").value, int)):
        call.refuse("integer powers are rewritten only for a constant exponent "
                    "(NumPy raises on negative ones)")
    k = call.fact("x2").value
    if k < 0:
        call.refuse("NumPy raises for integers to negative powers")
    result = call.result.dtype
    if k == 2:
        return f"tf.square({base})"
    if result.name in ("uint8", "bool"):
        # No uint8 pow kernel: int32 arithmetic wraps to the same value modulo 256.
        return f"tf.cast(tf.pow(tf.cast({base}, tf.int32), {k}), {tf_name(result)})"
    return f"tf.pow({base}, {exponent})"


def _power(call):
    """tf.pow in NumPy's result dtype (tf.square for a constant 2); integer powers need a
    constant non-negative exponent."""
    result = call.result.dtype
    base = _operand(call, "x1", result) if call.fact("x1").kind is Kind.SCALAR else call.text("x1")
    exponent = call.tensor("x2")
    if _is_int(result):
        return _int_power(call, base, exponent)
    if call.fact("x2").known and call.fact("x2").value == 2:
        return f"tf.square({base})"
    return f"tf.pow({base}, {exponent})"


def _divmod(call):
    """(floor_divide, remainder) as a pair; integers only, like `//` and `%` here."""
    dtype = call.result.items[0].dtype
    if not _is_int(dtype):
        call.refuse("float divmod is not rewritten (NumPy's float floor division is not floor(x1 / x2))")
    return _bind([_operand(call, "x1", dtype), _operand(call, "x2", dtype)], lambda x1, x2:
                 f"({_zero_safe('tf.math.floordiv', call, x1, x2, dtype)}, "
                 f"{_zero_safe('tf.math.floormod', call, x1, x2, dtype)})")


def _modf(call):
    """(fraction, integral part), both with x's sign; an infinity has fraction 0 (C modf)."""
    dtype = call.result.items[0].dtype
    compute = _compute_dtype(dtype)
    def build(x):
        frac = f"tf.where(tf.math.is_inf({x}), tf.zeros_like({x}), tf.truncatemod({x}, 1.0))"
        whole = f"tf.sign({x}) * tf.floor(tf.abs({x}))"
        if compute != dtype:
            frac, whole = (f"tf.cast({t}, {tf_name(dtype)})" for t in (frac, whole))
        return f"({frac}, {whole})"

    return _bind([_operand(call, "x", compute)], build)


def _nan_to_num(call):
    """NaN -> nan (0.0), +inf -> posinf, -inf -> neginf (the dtype's largest finite values by
    default); integers are returned unchanged."""
    x = call.text("x")
    dtype = call.result.dtype
    if _is_int(dtype):
        return x
    if dtype.kind == "c":
        call.refuse("complex input is not rewritten")
    info = np.finfo(dtype)
    nan = call.const("nan", 0.0)
    posinf = call.const("posinf", None)
    neginf = call.const("neginf", None)
    for name, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if value is not None and not isinstance(value, (int, float)):
            call.refuse(f"`{name}` must be a number")
    dt = tf_name(dtype)

    def const(value):
        # NumPy writes the replacement into the array, i.e. casts it to the array's dtype.
        return f"tf.constant({_lit(np.asarray(value).astype(dtype))}, {dt})"

    def build(x):
        if posinf is None and neginf is None:
            inner = f"tf.clip_by_value({x}, {const(info.min)}, {const(info.max)})"
        else:
            hi = const(info.max if posinf is None else posinf)
            lo = const(info.min if neginf is None else neginf)
            inner = f"tf.where({x} == float('inf'), {hi}, tf.where({x} == float('-inf'), {lo}, {x}))"
        return f"tf.where(tf.math.is_nan({x}), {const(nan)}, {inner})"

    return _bind([x], build)


def _isclose_parts(call):
    """NumPy's isclose: |x - y| <= atol + rtol * |y| with y finite, or x == y; y is made a
    float first, and the tolerance is computed in y's dtype."""
    for name in ("rtol", "atol"):
        value = call.const(name, None)
        if value is not None and not isinstance(value, (int, float)):
            call.refuse(f"`{name}` must be a number")
    rtol, atol = call.const("rtol", 1e-05), call.const("atol", 1e-08)
    equal_nan = call.const("equal_nan", False)
    fa, fb = call.fact("a"), call.fact("b")
    if fa.kind is not Kind.ARRAY and fb.kind is not Kind.ARRAY:
        call.refuse("needs an array argument")
    for fact in (fa, fb):
        if fact.kind is Kind.ARRAY and fact.dtype.kind not in "iubf":
            call.refuse(f"{fact.dtype} input is not rewritten")

    def stand_in(fact):
        if fact.kind is Kind.ARRAY:
            return np.zeros(1, fact.dtype)
        if fact.kind is Kind.SCALAR and fact.pytype in (int, float):
            return fact.value if fact.known else fact.pytype(1)
        call.refuse("arguments must be arrays or numbers")

    x0, y0 = stand_in(fa), stand_in(fb)
    # NumPy makes b a float first: an array of result_type(b, 1.0), a Python number a float.
    y0 = y0.astype(np.result_type(y0, 1.0)) if isinstance(y0, np.ndarray) else float(y0)
    y_dtype = y0.dtype if isinstance(y0, np.ndarray) else None
    with np.errstate(all="ignore"):
        dt = np.asarray(x0 - y0).dtype
    if dt.kind != "f":
        call.refuse(f"comparison in {dt} is not rewritten")
    texts = [_operand(call, "a", dt), _operand(call, "b", dt)]
    if y_dtype not in (None, dt):
        texts.append(_operand(call, "b", y_dtype))

    def build(x, y, y_own=None):
        y_own = y_own or y
        tol = f"{_lit(atol)} + {_lit(rtol)} * tf.abs({y_own})"
        if y_dtype not in (None, dt):
            tol = f"tf.cast({tol}, {tf_name(dt)})"
        close = f"tf.logical_or(tf.logical_and(tf.abs({x} - {y}) <= {tol}, tf.math.is_finite({y_own})), {x} == {y})"
        if equal_nan:
            close = f"tf.logical_or({close}, tf.logical_and(tf.math.is_nan({x}), tf.math.is_nan({y})))"
        return close

    return _bind(texts, build)


def _isclose(call):
    """|a - b| <= atol + rtol * |b| (b finite) or a == b, elementwise, as NumPy computes it."""
    return _isclose_parts(call)


def _allclose(call):
    """tf.reduce_all of isclose: a bool scalar tensor (NumPy returns a Python bool)."""
    from rewriter.lower import Lowered

    return Lowered(f"tf.reduce_all({_isclose_parts(call)})", Fact(Kind.SCALAR, pytype=bool, tensor=True), True)


def _angle(call):
    """tf.math.angle of complex input; for real input atan2(0, x) (pi for negatives and -0.0,
    NaN for NaN), in NumPy's float dtype; `deg=True` scales by 180/pi."""
    deg = call.const("deg", False)
    z = call.args["z"]
    result = call.result.dtype
    if z.fact.kind is Kind.ARRAY and z.fact.dtype.kind == "c":
        text = f"tf.math.angle({z.text})"
    else:
        text = _bind([_operand(call, "z", result)], lambda x: f"tf.atan2(tf.zeros_like({x}), {x})")
    return f"{text} * {_lit(180 / np.pi)}" if deg else text


def _real(name):
    def lower(call):
        value = call.args[name]
        if value.fact.kind is not Kind.ARRAY:
            call.refuse("needs an array")
        if value.fact.dtype.kind == "c":
            return f"tf.math.real({value.text})"
        return value.text

    lower.__doc__ = "tf.math.real; a real array is its own real part"
    return lower


def _imag(name):
    def lower(call):
        value = call.args[name]
        if value.fact.kind is not Kind.ARRAY:
            call.refuse("needs an array")
        if value.fact.dtype.kind == "c":
            return f"tf.math.imag({value.text})"
        return f"tf.zeros_like({value.text})"

    lower.__doc__ = "tf.math.imag; a real array has zeros of its own dtype"
    return lower


def _clip_bound(call, name):
    """A bound's text, or None when it is absent, None, or a constant that cannot bind
    (below the smallest / above the largest value of an integer dtype)."""
    if not call.given(name):
        return None
    fact = call.fact(name)
    if fact.known and fact.value is None:
        return None
    dtype = call.result.dtype
    if fact.known and isinstance(fact.value, (int, float)) and dtype.kind in "iu":
        info = np.iinfo(dtype)
        low_side = name == "a_min"
        if (fact.value <= info.min) if low_side else (fact.value >= info.max):
            return None  # never binds
        if (fact.value > info.max) if low_side else (fact.value < info.min):
            call.refuse(f"`{name}={fact.value}` lies outside {dtype}'s range")
        if not float(fact.value).is_integer():
            call.refuse(f"a fractional bound for {dtype} is not rewritten")
    return call.operand(name) if fact.kind is Kind.SCALAR and not fact.tensor else call.text(name)


def _clip(call):
    """np.clip(a, lo, hi) = minimum(maximum(a, lo), hi), in that order (so hi wins when
    lo > hi, as in NumPy; tf.clip_by_value lets lo win). Either bound may be None."""
    a = call.text("a")
    lo, hi = _clip_bound(call, "a_min"), _clip_bound(call, "a_max")
    if not (call.given("a_min") or call.given("a_max")):
        call.refuse("needs at least one bound")
    if lo is not None:
        a = f"tf.maximum({a}, {lo})"
    if hi is not None:
        a = f"tf.minimum({a}, {hi})"
    return a


def _where(call):
    """np.where(cond, x, y): NumPy takes any condition dtype (non-zero is True)."""
    if not call.given("x"):
        call.refuse("the one-argument form returns indices of varying length")
    cond = call.text("condition")
    if call.fact("condition").kind.value == "array" and call.fact("condition").dtype.kind != "b":
        cond = f"tf.cast({cond}, tf.bool)"
    return f"tf.where({cond}, {call.text('x')}, {call.text('y')})"


_COMPARE = NUMERIC  # bool is left out: the engine splices `a < b` on bool tensors, which TF lacks
_EXACT_F16 = "float16 computed in float32 and rounded back, as NumPy"

PATTERNS = (
    _unary("exp", "tf.exp(x)", dtypes=FLOATS + INTS + COMPLEX),
    _unary("expm1", "tf.math.expm1(x)"),
    _math("exp2", "tf.pow(tf.constant(2, {dt}), {x})", note=_EXACT_F16),
    _unary("log", "tf.math.log(x)", Values.POSITIVE),
    _unary("log1p", "tf.math.log1p(x)", Values.NONNEG),
    Pattern("numpy.log2", examples=("np.log2(a)",), lower=_log_lower(2, math.log(2)), cast=Cast.NONE,
            handles=("x",), domain=Domain(values=Values.POSITIVE, dtypes=FLOATS + INTS),
            note="TF has no log2: log(x)/ln 2, exact at powers of two as NumPy (log2(8) == 3.0)"),
    Pattern("numpy.log10", examples=("np.log10(a)",), lower=_log_lower(10, math.log(10)), cast=Cast.NONE,
            handles=("x",), domain=Domain(values=Values.POSITIVE, dtypes=FLOATS + INTS),
            note="TF has no log10: log(x)/ln 10, exact at powers of ten as NumPy (log10(1000) == 3.0)"),
    _unary("sqrt", "tf.sqrt(x)", Values.NONNEG),
    Pattern("numpy.cbrt", examples=("np.cbrt(a)",), lower=_cbrt_lower(), cast=Cast.NONE, handles=("x",),
            domain=Domain(dtypes=FLOATS + INTS),
            note="TF has no cube root of negatives; sign restores it, exact cubes come out exact"),
    _unary("square", "tf.square(x)"),
    _unary("reciprocal", "tf.math.reciprocal(x)", Values.NONZERO, dtypes=FLOATS,
           note="integers are refused: NumPy's integer reciprocal truncates (1/2 -> 0)"),
    Pattern("numpy.absolute", examples=("np.absolute(a)", "abs(a)"), lower=_absolute, cast=Cast.NONE,
            domain=Domain(dtypes=NUMERIC + ("bool",) + COMPLEX, grad=False),
            note="complex input gives its real magnitude; int8 -128 stays -128 in both"),
    _unary("fabs", "tf.abs(x)", grad=False),
    _unary("negative", "tf.negative(x)", dtypes=FLOATS + ("int8", "int16", "int32", "int64"),
           note="uint8 is refused: `-a` would be spliced as TF's Neg, which has no uint8 kernel"),
    _unary("positive", "tf.identity(x)"),
    Pattern("numpy.sign", examples=("np.sign(a)",), lower=_sign, domain=Domain(dtypes=NUMERIC, grad=False)),
    Pattern("numpy.floor", examples=("np.floor(a)",), handles=("x",), domain=Domain(dtypes=NUMERIC + ("bool",), grad=False),
            lower=_identity_for_ints(lambda call, x: f"tf.floor({x})", "tf.floor; integers keep their dtype and values")),
    Pattern("numpy.ceil", examples=("np.ceil(a)",), handles=("x",), domain=Domain(dtypes=NUMERIC + ("bool",), grad=False),
            lower=_identity_for_ints(lambda call, x: f"tf.math.ceil({x})", "tf.math.ceil; integers keep their dtype and values")),
    Pattern("numpy.trunc", examples=("np.trunc(a)",), handles=("x",), domain=Domain(dtypes=NUMERIC + ("bool",), grad=False),
            lower=_identity_for_ints(_trunc_text, "sign(x) * floor(|x|) (TF has no trunc); integers unchanged")),
    Pattern("numpy.rint", examples=("np.rint(a)",), lower=_rint, domain=Domain(dtypes=NUMERIC, grad=False),
            note="round half to even, as NumPy; float16 rounds in float32"),
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
    _math("deg2rad", "{x} * 0.017453292519943295", note=_EXACT_F16),
    _math("rad2deg", "{x} * 57.29577951308232", note=_EXACT_F16),
    Pattern("numpy.isnan", examples=("np.isnan(a)",), lower=_float_check("is_nan"), cast=Cast.NONE,
            domain=Domain(dtypes=NUMERIC, grad=False)),
    Pattern("numpy.isinf", examples=("np.isinf(a)",), lower=_float_check("is_inf"), cast=Cast.NONE,
            domain=Domain(dtypes=NUMERIC, grad=False)),
    Pattern("numpy.isfinite", examples=("np.isfinite(a)",), lower=_float_check("is_finite"), cast=Cast.NONE,
            domain=Domain(dtypes=NUMERIC, grad=False)),
    _unary("logical_not", "tf.equal(x, False)", dtypes=NUMERIC + ("bool",), grad=False,
           note="non-zero (and NaN) is True, as NumPy: inputs are cast to bool first"),
    _binary("add", "tf.add(x1, x2)", dtypes=NUMERIC + COMPLEX, only=("np.add(a, 2)", "a + b"),
            note="bool is refused: NumPy's bool + is `or`, and `a + b` is spliced as TF's Add"),
    _binary("subtract", "tf.subtract(x1, x2)", dtypes=NUMERIC + COMPLEX, only=("np.subtract(a, 2)", "a - b")),
    Pattern("numpy.multiply", examples=("np.multiply(a, b)", "a * b"), lower=_multiply,
            domain=Domain(dtypes=NUMERIC + ("bool",) + COMPLEX), note="bool * bool is logical and in both"),
    _binary("true_divide", "tf.divide(x1, x2)", Values.NONZERO, only=("np.true_divide(a, 2)", "a / b"),
            note="integers divide in NumPy's float64 (TF would use float32 for int8/int16)"),
    _binary("divide", "tf.divide(x1, x2)", Values.NONZERO, only=("np.divide(a, b)",)),
    Pattern("numpy.floor_divide", examples=("np.floor_divide(a, 3)", "a // b"), lower=_int_division("tf.math.floordiv"),
            domain=Domain(values=Values.NONZERO, dtypes=INTS, grad=False),
            note="floats are refused: NumPy's float // is (x1 - fmod(x1, x2)) / x2 rounded, not "
                 "floor(x1 / x2) as TF's (1.0 // 0.1 is 9.0, TF gives 10.0); integers by 0 give 0"),
    Pattern("numpy.remainder", examples=("np.remainder(a, 3)", "a % b"), lower=_int_division("tf.math.floormod"),
            domain=Domain(values=Values.NONZERO, grad=False),
            note="sign follows the divisor, as NumPy and Python; integers by 0 give 0"),
    Pattern("numpy.mod", examples=("np.mod(a, b)",), lower=_int_division("tf.math.floormod"),
            domain=Domain(values=Values.NONZERO, grad=False)),
    Pattern("numpy.maximum", examples=("np.maximum(a, b)", "np.maximum(a, 2)"),
            lower=_extremum("tf.maximum", "tf.logical_or"), domain=Domain(dtypes=NUMERIC + ("bool",), grad=False)),
    Pattern("numpy.minimum", examples=("np.minimum(a, b)", "np.minimum(a, 2)"),
            lower=_extremum("tf.minimum", "tf.logical_and"), domain=Domain(dtypes=NUMERIC + ("bool",), grad=False)),
    _binary("arctan2", "tf.atan2(x1, x2)", Values.NONZERO, dtypes=FLOATS),
    Pattern("numpy.hypot", examples=("np.hypot(a, b)", "np.hypot(a, 2)"), lower=_hypot,
            domain=Domain(dtypes=("float16", "float32", "int8", "int16", "uint8")),
            note="computed one precision up; float64 (and int32/int64) are refused: the squares "
                 "would overflow where NumPy's hypot does not"),
    Pattern("numpy.bitwise_and", examples=("np.bitwise_and(a, b)", "np.bitwise_and(a, 2)", "a & b"),
            lower=_logical_or_bitwise("tf.logical_and", "tf.bitwise.bitwise_and"),
            domain=Domain(dtypes=INTS + ("bool",), grad=False)),
    Pattern("numpy.bitwise_or", examples=("np.bitwise_or(a, b)", "np.bitwise_or(a, 2)", "a | b"),
            lower=_logical_or_bitwise("tf.logical_or", "tf.bitwise.bitwise_or"),
            domain=Domain(dtypes=INTS + ("bool",), grad=False)),
    Pattern("numpy.bitwise_xor", examples=("np.bitwise_xor(a, b)", "np.bitwise_xor(a, 2)", "a ^ b"),
            lower=_logical_or_bitwise("tf.math.logical_xor", "tf.bitwise.bitwise_xor"),
            domain=Domain(dtypes=INTS + ("bool",), grad=False)),
    Pattern("numpy.invert", examples=("np.invert(a)", "~a"), lower=_invert,
            domain=Domain(dtypes=INTS + ("bool",), grad=False)),
    _binary("less", "tf.less(x1, x2)", dtypes=_COMPARE, grad=False, cast=Cast.COMMON, examples=("a < b",)),
    _binary("less_equal", "tf.less_equal(x1, x2)", dtypes=_COMPARE, grad=False, cast=Cast.COMMON, only=("a <= b",)),
    _binary("greater", "tf.greater(x1, x2)", dtypes=_COMPARE, grad=False, cast=Cast.COMMON, only=("np.greater(a, b)", "a > 2")),
    _binary("greater_equal", "tf.greater_equal(x1, x2)", dtypes=_COMPARE, grad=False, cast=Cast.COMMON, only=("np.greater_equal(a, b)",)),
    _binary("equal", "tf.equal(x1, x2)", dtypes=ALL, grad=False, cast=Cast.COMMON, only=("np.equal(a, b)", "a == 2")),
    _binary("not_equal", "tf.not_equal(x1, x2)", dtypes=ALL, grad=False, cast=Cast.COMMON, only=("a != b",)),
    _binary("logical_and", "tf.logical_and(x1, x2)", dtypes=NUMERIC + ("bool",), grad=False),
    _binary("logical_or", "tf.logical_or(x1, x2)", dtypes=NUMERIC + ("bool",), grad=False, only=("np.logical_or(a, b)",)),
    _binary("logical_xor", "tf.math.logical_xor(x1, x2)", dtypes=NUMERIC + ("bool",), grad=False, only=("np.logical_xor(a, b)",)),
    Pattern("numpy.clip", examples=("np.clip(a, -0.5, 0.5)", "np.clip(a, 0, None)", "a.clip(-1, 1)"),
            lower=_clip, handles=("a", "a_min", "a_max"), arrays=("a", "a_min", "a_max"),
            domain=Domain(grad=False),
            note="minimum(maximum(a, lo), hi) as NumPy; integer bounds outside the dtype never bind"),
    Pattern("numpy.where", examples=("np.where(a > 0, a, b)", "np.where(a > 0, a, 0)"),
            lower=_where, handles=("condition", "x", "y"), arrays=("x", "y"), cast=Cast.COMMON,
            domain=Domain(grad=False)),
)

PATTERNS = PATTERNS + (
    next(p for p in PATTERNS if p.numpy == "numpy.clip").as_method("clip", ("a.clip(-1, 1)",)),
)

# -- appended: more of NumPy's elementwise functions ------------------------------------------

_ROUND = Pattern("numpy.round", examples=("np.round(a)", "np.round(a, 2)", "np.round(a, -1)"), lower=_round,
                 handles=("a", "decimals"), domain=Domain(dtypes=NUMERIC, grad=False),
                 note="half to even; decimals scale by 10**d in a's dtype exactly as NumPy does")
_CONJUGATE = _unary("conjugate", "tf.math.conj(x)", dtypes=NUMERIC + COMPLEX,
                    note="a real array is its own conjugate")

PATTERNS = PATTERNS + (
    _ROUND,
    Pattern("numpy.around", examples=("np.around(a, 1)",), lower=_round, handles=("a", "decimals"),
            domain=Domain(dtypes=NUMERIC, grad=False), note="np.round under its other name"),
    Pattern("numpy.fix", examples=("np.fix(a)",), handles=("x",), domain=Domain(dtypes=NUMERIC, grad=False),
            lower=_identity_for_ints(_trunc_text, "round toward zero: sign(x) * floor(|x|); integers unchanged")),
    Pattern("numpy.sinc", examples=("np.sinc(a)",), lower=_sinc, handles=("x",), domain=Domain(dtypes=FLOATS + INTS),
            note="1 at zero, sin(pi x) / (pi x) elsewhere, in NumPy's dtype"),
    Pattern("numpy.heaviside", examples=("np.heaviside(a, 0.5)", "np.heaviside(a, b)"), lower=_heaviside,
            domain=Domain(dtypes=FLOATS + INTS, grad=False), note="NaN stays NaN; x2 at exactly zero"),
    Pattern("numpy.copysign", examples=("np.copysign(a, b)", "np.copysign(a, -1.0)"), lower=_copysign,
            cast=Cast.NONE, domain=Domain(values=Values.NONZERO, dtypes=FLOATS + INTS, grad=False),
            note="the sign bit, so -0.0 and negative NaN count as negative, as in NumPy"),
    Pattern("numpy.signbit", examples=("np.signbit(a)",), lower=_signbit, cast=Cast.NONE,
            domain=Domain(dtypes=NUMERIC, grad=False), note="the sign bit: True for -0.0, as NumPy"),
    Pattern("numpy.nan_to_num", examples=("np.nan_to_num(a / b)", "np.nan_to_num(np.log(a), nan=-1.0, posinf=9.0)"),
            lower=_nan_to_num, handles=("x", "copy", "nan", "posinf", "neginf"), cast=Cast.NONE,
            domain=Domain(dtypes=NUMERIC, grad=False),
            note="infinities become the dtype's largest finite values by default, as NumPy"),
    Pattern("numpy.isclose", examples=("np.isclose(a, a + 1e-6)", "np.isclose(a, b, rtol=0.5, atol=0.1, equal_nan=True)"),
            lower=_isclose, handles=("a", "b", "rtol", "atol", "equal_nan"), arrays=("a", "b"), cast=Cast.NONE,
            domain=Domain(dtypes=NUMERIC, grad=False), note="NumPy's asymmetric test, tolerance in b's dtype"),
    Pattern("numpy.allclose", examples=("np.allclose(a, b)", "np.allclose(a, a, atol=0.0)"),
            lower=_allclose, handles=("a", "b", "rtol", "atol", "equal_nan"), arrays=("a", "b"), cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(dtypes=NUMERIC, grad=False),
            note="a bool scalar tensor where NumPy returns a Python bool"),
    Pattern("numpy.angle", examples=("np.angle(a)", "np.angle(a, deg=True)"), lower=_angle, handles=("z", "deg"),
            cast=Cast.NONE, domain=Domain(dtypes=FLOATS + INTS + COMPLEX, grad=False),
            note="real input: 0, or pi for negatives and -0.0, as NumPy's atan2(0, x)"),
    Pattern("numpy.real", examples=("np.real(a)",), lower=_real("val"), handles=("val",), cast=Cast.NONE,
            domain=Domain(dtypes=ALL)),
    Pattern("numpy.imag", examples=("np.imag(a)",), lower=_imag("val"), handles=("val",), cast=Cast.NONE,
            domain=Domain(dtypes=ALL, grad=False)),
    _CONJUGATE,
    Pattern("numpy.float_power", examples=("np.float_power(a, b)", "np.float_power(a, 3)"),
            lower=lambda call: f"tf.pow({_operand(call, 'x1', call.result.dtype)}, {_operand(call, 'x2', call.result.dtype)})",
            domain=Domain(values=Values.POSITIVE, dtypes=NUMERIC), note="always float64 (complex128), as NumPy"),
    Pattern("numpy.fmod", examples=("np.fmod(a, b)", "np.fmod(a, 3)"), lower=_fmod,
            domain=Domain(values=Values.NONZERO, dtypes=NUMERIC, grad=False),
            note="C fmod: the sign of the dividend (np.remainder takes the divisor's)"),
    Pattern("numpy.fmax", examples=("np.fmax(a, b)", "np.fmax(a, np.nan)"), lower=_nan_ignoring(">=", "tf.maximum", "tf.logical_or"),
            domain=Domain(dtypes=NUMERIC + ("bool",), grad=False), note="NaN-ignoring, unlike np.maximum"),
    Pattern("numpy.fmin", examples=("np.fmin(a, b)", "np.fmin(a, np.nan)"), lower=_nan_ignoring("<=", "tf.minimum", "tf.logical_and"),
            domain=Domain(dtypes=NUMERIC + ("bool",), grad=False), note="NaN-ignoring, unlike np.minimum"),
    Pattern("numpy.logaddexp", examples=("np.logaddexp(a, b)", "np.logaddexp(a, -np.inf)"), lower=_logaddexp("e"),
            cast=Cast.NONE, domain=Domain(dtypes=FLOATS + INTS), note="stable for large inputs; equal infinities kept"),
    Pattern("numpy.logaddexp2", examples=("np.logaddexp2(a, b)",), lower=_logaddexp("2"),
            cast=Cast.NONE, domain=Domain(dtypes=FLOATS + INTS), note="stable for large inputs; equal infinities kept"),
    _math("degrees", "{x} * 57.29577951308232", note=_EXACT_F16),
    _math("radians", "{x} * 0.017453292519943295", note=_EXACT_F16),
    Pattern("numpy.arccosh", examples=("np.arccosh(1 + a)",), tf="tf.acosh(x)",
            domain=Domain(values=Values.NONNEG, dtypes=FLOATS + INTS)),
    Pattern("numpy.power", examples=("np.power(a, 3)", "a ** 2", "np.power(a, b * 0.5)"), lower=_power,
            domain=Domain(values=Values.POSITIVE, dtypes=NUMERIC),
            note="integer powers only for a constant exponent >= 0 (NumPy raises on negative ones)"),
    Pattern("numpy.divmod", examples=("np.divmod(a, b)", "np.divmod(a, 3)"), lower=_divmod, cast=Cast.NONE,
            domain=Domain(values=Values.NONZERO, dtypes=INTS, grad=False),
            note="integers only, like `//` (NumPy's float floor division is not floor(x1 / x2))"),
    Pattern("numpy.modf", examples=("np.modf(a)",), lower=_modf, cast=Cast.NONE,
            domain=Domain(dtypes=FLOATS + INTS, grad=False), note="infinities have fraction 0, as C modf"),
    Pattern("numpy.isposinf", examples=("np.isposinf(a)", "np.isposinf(a / b)"), lower=_signed_inf("+"),
            cast=Cast.NONE, handles=("x",), domain=Domain(dtypes=NUMERIC, grad=False)),
    Pattern("numpy.isneginf", examples=("np.isneginf(a)", "np.isneginf(np.log(a))"), lower=_signed_inf("-"),
            cast=Cast.NONE, handles=("x",), domain=Domain(dtypes=NUMERIC, grad=False)),
    _ROUND.as_method("round", ("a.round()", "a.round(1)")),
    _CONJUGATE.as_method("conj", ("a.conj()",)),
    _CONJUGATE.as_method("conjugate", ("a.conjugate()",)),
    Pattern("ndarray.real", examples=("a.real",), lower=_real("self"), signature="attribute", cast=Cast.NONE,
            domain=Domain(dtypes=ALL)),
    Pattern("ndarray.imag", examples=("a.imag",), lower=_imag("self"), signature="attribute", cast=Cast.NONE,
            domain=Domain(dtypes=ALL, grad=False)),
)


def _ufunc_inputs(pattern):
    """A ufunc lowered by a function handles its inputs (x, or x1 and x2) itself."""
    fn = getattr(np, (pattern.via or pattern.numpy).rsplit(".", 1)[-1], None)
    if isinstance(fn, np.ufunc) and pattern.lower is not None and not pattern.handles:
        return replace(pattern, handles=("x",) if fn.nin == 1 else tuple(f"x{i + 1}" for i in range(fn.nin)))
    return pattern


def _fast_ranks(pattern):
    """Elementwise semantics do not depend on rank: 0-d, 2-d, empty and broadcast shapes test
    all of it, and keep the numeric suite fast."""
    return replace(pattern, domain=replace(pattern.domain, ranks=(0, 2)))


PATTERNS = tuple(_fast_ranks(_ufunc_inputs(p)) for p in PATTERNS)
