"""Reductions and statistics: sums, means, extrema, products, logical reductions, moments,
arg-extrema, cumulative ops, differences, NaN-aware reductions, medians and quantiles.

NumPy's result dtype is reached by casting the input first (`Cast.RESULT`): an int mean is a
float64 mean, a bool or int32 sum accumulates in int64.

float16: NumPy's float16 sums round to float16 between inner loops that depend on memory
layout, so no TF sum reproduces them; float16 is left out of every pattern that sums in
float16 (sum, prod, var, ...). It stays where NumPy's float16 result is exact (extrema,
arg-extrema, cumulative ops, which round after every step in both) or accumulates in float32
(`mean`, `median`), which the lowering then spells out.

Where an input is needed more than once and its text is not a plain name, it is bound once
with an immediately applied `lambda x: ...`, so it is not computed twice. Median, quantiles
and the NaN-keeping float max/min are calls to helpers named after the NumPy function
(`np_median(a, axis=-1)`, see `rewriter/tf_helpers.py`).
"""
import re

import numpy as np

from rewriter import helper_source
from rewriter.facts import Kind, tf_name
from rewriter.lower import Lowered
from rewriter.pattern import INTS, NUMERIC, Batch, Cast, Domain, Pattern, parenthesize

FAMILY_CODE = "NPR"

_NO_F16 = ("float32", "float64") + INTS
_CHEAP = re.compile(r"[A-Za-z_][\w.]*|tf\.cast\([A-Za-z_][\w.]*, tf\.\w+\)")


# -- helpers ---------------------------------------------------------------------------------

def _bind(text, body, name="x"):
    """`body(text)`, with `text` evaluated once: inline when it is a plain name, else bound by
    an immediately applied lambda."""
    if _CHEAP.fullmatch(text.strip()):
        return body(text)
    return f"(lambda {name}: {body(name)})({text})"


def _kw(call, *names):
    """`, axis=..., keepdims=...` for the parameters the call gives."""
    return "".join(f", {n}={call.text(n)}" for n in names if call.given(n))


def _axis(call, name="axis", default=None):
    """The axis as an int or None (a one-axis tuple counts as that axis); refuses several axes."""
    value = call.const(name, default) if call.given(name) else default
    if isinstance(value, tuple):
        if len(value) != 1:
            call.refuse("several axes at once are not rewritten")
        value = value[0]
    if value is not None and not isinstance(value, int):
        call.refuse("the axis must be an int")
    return value


def _negative_axis(call, axis, array="a"):
    """`axis` counted from the end (independent of leading batch axes); needs the rank when
    the axis is given from the front."""
    if axis < 0:
        return axis
    rank = call.fact(array).rank
    if rank is None or call.fact(array).batched:
        call.refuse("needs the rank of the input for a non-negative axis")
    return axis - rank


def _keepdims(call):
    keep = call.const("keepdims", False)
    if keep is np._NoValue:
        keep = False
    return bool(keep)


def _float_input(call, name="a"):
    fact = call.fact(name)
    return fact.kind is Kind.ARRAY and fact.dtype is not None and fact.dtype.kind == "f"


def _input_as_result(call, name="a"):
    """The input in NumPy's result dtype. Patterns that look at the input's own dtype (NaN
    handling, integer wrap-around) use Cast.NONE and cast here."""
    if call.result.kind is Kind.ARRAY and call.fact(name).dtype != call.result.dtype:
        return call.cast(name, call.result.dtype)
    return call.text(name)


def _no_f16_result(call, why="NumPy accumulates float16 with layout-dependent rounding"):
    if call.result.dtype is not None and call.result.dtype == np.float16:
        call.refuse(f"float16 result: {why}")


def _slices(axis, *parts):
    """Index text selecting `parts` (slice texts) along a non-negative or negative axis."""
    def one(part):
        if axis >= 0:
            return "[" + ":, " * axis + part + "]"
        return "[..., " + part + ", :" * (-axis - 1) + "]"
    return tuple(one(p) for p in parts)


# -- sums, products, extrema ----------------------------------------------------------------

_NAN_KEEPING = {"tf.reduce_max": "np_max", "tf.reduce_min": "np_min"}


def _reduce(op, combine, axis_default=None):
    """op(a, axis, keepdims), with `initial` folded in by `combine` (NumPy starts the
    reduction from it, so an empty slice gives `initial`). Float max and min go to np_max /
    np_min, NaN wherever the slice holds a NaN (compiled with XLA, TF's skip NaN)."""
    def lower(call):
        if op in ("tf.reduce_sum", "tf.reduce_prod"):
            _no_f16_result(call)
        array = call.pattern.arrays[0] if call.pattern.arrays else "a"
        a = call.text(array)
        if axis_default is not None and not call.given("axis"):
            axis = f", axis={axis_default}"
        else:
            axis = _kw(call, "axis")
        text = f"{op}({a}{axis}{_kw(call, 'keepdims')})"
        if op in _NAN_KEEPING and _float_input(call, array):
            text = helper_source.call(_NAN_KEEPING[op], a + f"{axis}{_kw(call, 'keepdims')}")
        if call.given("initial"):
            text = combine.format(r=text, i=parenthesize(call.tensor("initial")))
        return text

    lower.__doc__ = f"{op} with NumPy's `initial`"
    return lower


def _reduction(name, op, combine, dtypes, grad=True, examples=None, note=""):
    return Pattern(
        f"numpy.{name}",
        examples=examples or (f"np.{name}(a)", f"np.{name}(a, axis=-1)", f"np.{name}(a, 0, keepdims=True)"),
        lower=_reduce(op, combine), handles=("a", "axis", "keepdims", "initial"), batch=Batch.REDUCE,
        domain=Domain(dtypes=dtypes, ranks=(1, 2), grad=grad), note=note,
    )


_SUM = "{r} + {i}"
_PROD = "{r} * {i}"
_MAX = "tf.maximum({r}, {i})"
_MIN = "tf.minimum({r}, {i})"


def _logical(name, op):
    return Pattern(f"numpy.{name}", examples=(f"np.{name}(a)", f"np.{name}(a, axis=-1)", f"np.{name}(a, 0, keepdims=True)"),
                   tf=f"{op}(a, axis=axis, keepdims=keepdims)", batch=Batch.REDUCE,
                   domain=Domain(dtypes=NUMERIC + ("bool",), ranks=(1, 2), grad=False),
                   note="non-zero (NaN too) is True: the input is cast to bool first")


# -- means and moments ----------------------------------------------------------------------

def _mean_text(call, a):
    """NumPy averages float16 in float32 (then rounds once) unless a dtype is forced."""
    tail = _kw(call, "axis", "keepdims")
    if call.result.dtype == np.float16:
        if call.given("dtype") or call.fact("a").dtype != np.float16:
            call.refuse("a float16 mean with an explicit dtype accumulates in float16")
        return f"tf.cast(tf.reduce_mean(tf.cast({a}, tf.float32){tail}), tf.float16)"
    return f"tf.reduce_mean({a}{tail})"


def _mean(call):
    """tf.reduce_mean in NumPy's dtype (float16 averages in float32)"""
    return _mean_text(call, _input_as_result(call))


def _moment(kind):
    def lower(call):
        if call.result.dtype.kind == "c":
            call.refuse("complex variance is not rewritten")
        _no_f16_result(call)
        ddof = call.const("ddof", 0)
        if not isinstance(ddof, (int, float)) or isinstance(ddof, bool):
            call.refuse("ddof must be a number")
        axis, keep = _kw(call, "axis"), _kw(call, "keepdims")
        if not ddof:
            var = f"tf.math.reduce_variance({_input_as_result(call)}{axis}{keep})"
        else:
            # NumPy: sum((a - mean)**2) / max(n - ddof, 0); TF's reduce_variance divides by n.
            var = _bind(_input_as_result(call), lambda x: (
                f"tf.reduce_sum(tf.square({x} - tf.reduce_mean({x}{axis}, keepdims=True)){axis}{keep}) / "
                f"tf.maximum(tf.reduce_sum(tf.ones_like({x}){axis}{keep}) - {ddof!r}, 0)"))
        return f"tf.sqrt({var})" if kind == "std" else var

    lower.__doc__ = f"NumPy's {kind} with ddof: sum of squared deviations over max(n - ddof, 0)"
    return lower


def _average(call):
    """mean without weights; sum(a * w) / sum(w) with them (1-D weights lie along `axis`)"""
    if not call.given("weights") or (call.fact("weights").known and call.fact("weights").value is None):
        return _mean_text(call, call.text("a"))
    _no_f16_result(call)
    a, w = call.text("a"), call.text("weights")
    w_fact = call.fact("weights")
    a_rank = call.fact("a").rank
    if w_fact.rank is None or a_rank is None:
        call.refuse("needs the ranks of the array and the weights")
    if w_fact.rank != a_rank:
        if w_fact.rank != 1:
            call.refuse("weights must have the array's shape or be 1-D along axis")
        axis = _axis(call)
        if axis is None:
            call.refuse("1-D weights need an axis")
        k = _negative_axis(call, axis)
        if k != -1:
            w = f"tf.reshape({w}, [-1{', 1' * (-k - 1)}])"
    tail = _kw(call, "axis", "keepdims")
    return f"tf.reduce_sum({parenthesize(a)} * {parenthesize(w)}{tail}) / tf.reduce_sum({w}{tail})"


# -- arg-extrema ----------------------------------------------------------------------------

def _arg(op, nan_first):
    """tf.argmax/argmin; a NaN wins (its first index) as in NumPy; axis=None flattens."""
    def lower(call):
        axis = _axis(call)
        keep = _keepdims(call)
        a = call.text("a")
        if axis is None:
            a, k = f"tf.reshape({a}, [-1])", 0
        else:
            k = axis
        if _float_input(call) and nan_first:
            # TF's argmax skips NaN; NumPy returns the first NaN. In slices holding a NaN,
            # the arg-extremum of the NaN mask is that first NaN.
            mask = "tf.cast(tf.math.is_nan({x}), {x}.dtype)" if op == "tf.argmax" else \
                "tf.cast(tf.logical_not(tf.math.is_nan({x})), {x}.dtype)"
            text = _bind(a, lambda x: (
                f"{op}(tf.where(tf.reduce_any(tf.math.is_nan({x}), axis={k}, keepdims=True), "
                f"{mask.format(x=x)}, {x}), axis={k})"))
        else:
            text = f"{op}({a}, axis={k})"
        if keep:
            if axis is None:
                rank = call.fact("a").rank
                if rank is None or call.fact("a").batched:
                    call.refuse("keepdims with axis=None needs the rank")
                return f"tf.reshape({text}, [{', '.join(['1'] * rank)}])"
            return f"tf.expand_dims({text}, {k})"
        return text

    lower.__doc__ = f"{op} (first index on ties, NaN first, flattened for axis=None, keepdims)"
    return lower


def _arg_pattern(name, op, nan_first=True, note="", replace=None):
    return Pattern(f"numpy.{name}", examples=(f"np.{name}(a, axis=-1)", f"np.{name}(a)", f"np.{name}(a, 0, keepdims=True)"),
                   lower=_nan_arg(op) if replace else _arg(op, nan_first), cast=Cast.NONE,
                   handles=("a", "axis", "keepdims"), batch=Batch.REDUCE,
                   domain=Domain(dtypes=NUMERIC, ranks=(1, 2, 3), grad=False), note=note)


def _nan_arg(op):
    """NaN ignored: NumPy replaces it by -inf (argmax) or +inf (argmin) first."""
    inner = _arg(op, nan_first=False)

    def lower(call):
        if _float_input(call):
            fill = "-inf" if op == "tf.argmax" else "inf"
            a = _bind(call.text("a"), lambda x: f"tf.where(tf.math.is_nan({x}), tf.constant(float('{fill}'), {x}.dtype), {x})")
            call.args["a"] = Lowered(a, call.fact("a"), True)
        return inner(call)

    lower.__doc__ = f"{op} with NaN replaced as NumPy does"
    return lower


# -- cumulative ops and differences ---------------------------------------------------------

def _cumulative(op, array="a", nan_fill=None, axis_default=None):
    """tf.cumsum/cumprod; axis=None flattens first, as NumPy."""
    def lower(call):
        x = _input_as_result(call, array)
        if nan_fill is not None and _float_input(call, array):
            x = _bind(x, lambda v: f"tf.where(tf.math.is_nan({v}), tf.constant({nan_fill}, {v}.dtype), {v})")
        product = op == "tf.math.cumprod" and call.result.dtype is not None and call.result.dtype.kind in "fc"
        if call.given("axis") or axis_default is not None:
            axis = _axis(call, default=axis_default)
            if axis is None or call.fact(array).rank == 0:  # NumPy treats a 0-d array as 1-d here
                return _exact_cumprod(f"tf.reshape({x}, [-1])", -1) if product \
                    else f"{op}(tf.reshape({x}, [-1]), axis=0)"
            if product:
                return _exact_cumprod(x, _negative_axis(call, axis, array))
            return f"{op}({x}, axis={call.text('axis') if call.given('axis') else axis_default})"
        if array == "x" and call.fact(array).rank not in (None, 0, 1):
            call.refuse("needs an axis for arrays of more than one dimension")
        return _exact_cumprod(f"tf.reshape({x}, [-1])", -1) if product else f"{op}(tf.reshape({x}, [-1]), axis=0)"

    lower.__doc__ = f"{op}, flattening first for axis=None"
    return lower


def _exact_cumprod(x: str, axis: int) -> str:
    """A running product along a negative `axis`: the values of tf.math.cumprod, which
    multiplies in order as NumPy does (any regrouping overflows to inf or underflows to 0 at
    other entries), and the gradient of a log-step doubling product (after k rounds each entry
    holds the product of the 2**k entries ending at it, log2(n) rounds of whole-tensor
    multiplies): tf.math.cumprod's gradient is 0 at zeros, this one is right. The doubling
    product D only adds `stop_gradient(D) - D`, exactly 0 where D is finite (+0.0, which keeps
    a -0.0 product), and is left out where D overflows."""
    rest = ", :" * (-axis - 1)
    head, tail, lead = f"y[..., :s{rest}]", f"y[..., s:{rest}]", f"y[..., :-s{rest}]"

    def body(v):
        doubling = (f"tf.while_loop(lambda s, y: s < tf.shape(y)[{axis}], "
                    f"lambda s, y: (s * 2, tf.reshape(tf.concat([{head}, {tail} * {lead}], {axis}), tf.shape(y))), "
                    f"(1, {v}))[1]")
        gradient_only = _bind(doubling, lambda d: (
            f"tf.where(tf.math.is_finite({d}), tf.stop_gradient({d}) - {d}, tf.zeros_like({d}))"), "d")
        return f"tf.stop_gradient(tf.math.cumprod({v}, axis={axis})) - {gradient_only}"
    return _bind(x, body)


def _diff_once(text, hi, lo, boolean):
    def body(x):
        return f"tf.not_equal({x}{hi}, {x}{lo})" if boolean else f"{x}{hi} - {x}{lo}"
    return _bind(text, body)


def _diff(call):
    """a[1:] - a[:-1] along the axis, n times (`!=` for bools, as NumPy)"""
    n = call.const("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 3:
        call.refuse("n must be a constant from 0 to 3")
    axis = _axis(call, default=-1)
    text = call.text("a")
    if n == 0:
        return f"tf.identity({text})"
    hi, lo = _slices(axis, "1:", ":-1")
    boolean = call.fact("a").dtype == np.bool_
    for _ in range(n):
        text = _diff_once(text, hi, lo, boolean)
    return text


def _ediff1d(call):
    """the flattened array's a[1:] - a[:-1]"""
    return _diff_once(f"tf.reshape({call.text('ary')}, [-1])", "[1:]", "[:-1]", False)


def _trapezoid(call):
    """sum(dx * (y[1:] + y[:-1]) / 2) along the axis, in NumPy's order of operations"""
    _no_f16_result(call)
    if call.given("dx") and call.fact("dx").kind is not Kind.SCALAR:
        call.refuse("dx must be a scalar")
    axis = _axis(call, default=-1)
    hi, lo = _slices(axis, "1:", ":-1")
    y_dtype = call.fact("y").dtype
    result = tf_name(call.result.dtype)

    def body(y):
        pair = f"{y}{hi} + {y}{lo}"
        if y_dtype != call.result.dtype:
            # NumPy adds the neighbours in the input dtype, then multiplies by the float dx.
            pair = f"tf.cast({pair}, {result})"
        else:
            pair = f"({pair})"
        dx = f"{parenthesize(call.text('dx'))} * " if call.given("dx") else ""
        return f"tf.reduce_sum({dx}{pair} / 2.0, axis={axis})"

    return _bind(call.text("y"), body, "y")


# -- NaN-aware reductions -------------------------------------------------------------------

def _nan_to(call, fill):
    """The input with NaN replaced by `fill` (floats only; other dtypes hold no NaN)."""
    a = _input_as_result(call)
    if not _float_input(call):
        return a
    # A bare Python float in tf.where is float32 inside a graph: the fill takes x's dtype.
    return _bind(a, lambda x: f"tf.where(tf.math.is_nan({x}), tf.constant({fill}, {x}.dtype), {x})")


def _nanreduce(op):
    def lower(call):
        _no_f16_result(call)
        fill = "0." if op == "tf.reduce_sum" else "1."
        return f"{op}({_nan_to(call, fill)}{_kw(call, 'axis', 'keepdims')})"

    lower.__doc__ = f"{op} with NaN treated as {'zero' if op == 'tf.reduce_sum' else 'one'} (all-NaN gives it)"
    return lower


def _nanextremum(op):
    def lower(call):
        tail = _kw(call, "axis", "keepdims")
        if not _float_input(call):
            return f"{op}({call.text('a')}{tail})"
        fill = "-inf" if op == "tf.reduce_max" else "inf"
        # NaN is skipped; a slice of NaN only gives NaN (NumPy warns).
        return _bind(call.text("a"), lambda x: (
            f"tf.where(tf.reduce_all(tf.math.is_nan({x}){tail}), tf.constant(float('nan'), {x}.dtype), "
            f"{op}(tf.where(tf.math.is_nan({x}), tf.constant(float('{fill}'), {x}.dtype), {x}){tail}))"))

    lower.__doc__ = f"{op} skipping NaN; all-NaN slices give NaN"
    return lower


def _nanmean(call):
    """sum of the non-NaN values over their count (all-NaN: 0 / 0 = NaN, as NumPy)"""
    if not _float_input(call):
        return _mean_text(call, _input_as_result(call))
    _no_f16_result(call)
    tail = _kw(call, "axis", "keepdims")
    return _bind(_input_as_result(call), lambda x: (
        f"tf.reduce_sum(tf.where(tf.math.is_nan({x}), tf.zeros_like({x}), {x}){tail}) / "
        f"tf.reduce_sum(tf.cast(tf.logical_not(tf.math.is_nan({x})), {x}.dtype){tail})"))


def _nanmoment(kind):
    plain = _moment(kind)

    def lower(call):
        if not _float_input(call):
            return plain(call)
        _no_f16_result(call)
        ddof = call.const("ddof", 0)
        if not isinstance(ddof, (int, float)) or isinstance(ddof, bool):
            call.refuse("ddof must be a number")
        axis, keep = _kw(call, "axis"), _kw(call, "keepdims")

        def body(x):
            count = f"tf.reduce_sum(tf.cast(tf.logical_not(m), {x}.dtype){axis}"
            mean = f"tf.reduce_sum(tf.where(m, tf.zeros_like({x}), {x}){axis}, keepdims=True) / {count}, keepdims=True)"
            squares = f"tf.reduce_sum(tf.square(tf.where(m, tf.zeros_like({x}), {x} - {mean})){axis}{keep})"
            # NumPy gives NaN (not inf) where the degrees of freedom are not positive.
            return (f"(lambda m: (lambda dof: {squares} / tf.where(dof > 0, dof, tf.constant(float('nan'), dof.dtype)))"
                    f"({count}{keep}) - {ddof!r}))(tf.math.is_nan({x}))")

        var = _bind(_input_as_result(call), body)
        return f"tf.sqrt({var})" if kind == "std" else var

    lower.__doc__ = f"NumPy's nan{kind}: moments of the non-NaN values, NaN where n - ddof <= 0"
    return lower


# -- median and quantiles -------------------------------------------------------------------

def _reduced_axis(call):
    """The axis of median and quantiles counted from the end (independent of leading batch
    axes), or None to reduce the flattened array."""
    axis = _axis(call)
    return None if axis is None else _negative_axis(call, axis)


def _median(call):
    """np_median: the mean of the one or two middle values of the sorted axis, NaN for a slice
    with NaN; float16 averages in float32, integers in float64, as NumPy."""
    k = _reduced_axis(call)
    keep = _keepdims(call)
    if k is None and keep and (call.fact("a").rank is None or call.fact("a").batched):
        call.refuse("keepdims with axis=None needs the rank")
    arguments = [call.text("a")] + ([f"axis={k}"] if k is not None else []) + (["keepdims=True"] if keep else [])
    return helper_source.call("np_median", *arguments)


def _quantile(percent):
    """np_quantile, NumPy's 'linear' method: virtual index (n - 1) * q, neighbours lerped like
    numpy._lerp; a percentile is the quantile at q / 100."""
    def lower(call):
        q = call.const("q")
        values = q if isinstance(q, tuple) else (q,)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            call.refuse("q must be a constant number or list of numbers")
        if not percent and all(isinstance(v, int) for v in values):
            call.refuse("integer q takes elements without interpolation")
        qs = np.true_divide(np.asarray(q), 100) if percent else np.asarray(q, dtype=np.float64)
        if qs.ndim > 1:
            call.refuse("q must be a scalar or 1-D")
        k = _reduced_axis(call)
        if qs.ndim == 1 and k is not None:
            # NumPy puts the q axis first: np_quantile moves it there from axis k, which needs
            # the rank, and would move it ahead of the leading batch axes too.
            if call.fact("a").rank is None or call.fact("a").batched:
                call.refuse("a list of q with an axis needs the rank")
        q_text = repr(float(qs)) if qs.ndim == 0 else repr([float(v) for v in qs])
        arguments = [call.text("a"), q_text] + ([f"axis={k}"] if k is not None else [])
        return helper_source.call("np_quantile", *arguments)

    lower.__doc__ = "NumPy's linear quantile: sorted neighbours at (n - 1) * q, lerped as numpy._lerp"
    return lower


# -- the patterns ---------------------------------------------------------------------------

_R = dict(batch=Batch.REDUCE)

PATTERNS = (
    _reduction("sum", "tf.reduce_sum", _SUM, _NO_F16 + ("bool",),
               examples=("np.sum(a)", "np.sum(a, axis=-1)", "np.sum(a, 0, keepdims=True, initial=1)"),
               note="int32 and bool sums accumulate in int64; float16 is not rewritten"),
    _reduction("prod", "tf.reduce_prod", _PROD, _NO_F16 + ("bool",)),
    Pattern("numpy.mean", examples=("np.mean(a)", "np.mean(a, axis=-1)", "np.mean(a, 0, keepdims=True)"),
            lower=_mean, handles=("a", "axis", "keepdims"), batch=Batch.REDUCE,
            domain=Domain(dtypes=NUMERIC + ("bool",), ranks=(1, 2, 3)),
            note="integer input averages in float64, float16 in float32, as NumPy"),
    _reduction("max", "tf.reduce_max", _MAX, NUMERIC, grad=False,
               examples=("np.max(a)", "np.max(a, axis=-1)", "np.max(a, 0, keepdims=True, initial=1)")),
    _reduction("min", "tf.reduce_min", _MIN, NUMERIC, grad=False,
               examples=("np.min(a)", "np.min(a, axis=-1)", "np.min(a, 0, keepdims=True, initial=1)")),
    _reduction("amax", "tf.reduce_max", _MAX, NUMERIC, grad=False),
    _reduction("amin", "tf.reduce_min", _MIN, NUMERIC, grad=False),
    _logical("any", "tf.reduce_any"),
    _logical("all", "tf.reduce_all"),
    Pattern("numpy.std", examples=("np.std(a)", "np.std(a, axis=1, ddof=1)", "np.std(a, -1, keepdims=True)"),
            lower=_moment("std"), handles=("a", "axis", "keepdims", "ddof"), batch=Batch.REDUCE,
            domain=Domain(dtypes=_NO_F16, ranks=(1, 2, 3)), note="ddof divides by max(n - ddof, 0) (TF has no ddof)"),
    Pattern("numpy.var", examples=("np.var(a)", "np.var(a, axis=0, ddof=1)", "np.var(a, -1, keepdims=True)"),
            lower=_moment("var"), handles=("a", "axis", "keepdims", "ddof"), batch=Batch.REDUCE,
            domain=Domain(dtypes=_NO_F16, ranks=(1, 2, 3)), note="ddof divides by max(n - ddof, 0) (TF has no ddof)"),
    _arg_pattern("argmax", "tf.argmax", note="first index on ties; the first NaN wins; axis=None flattens"),
    _arg_pattern("argmin", "tf.argmin", note="first index on ties; the first NaN wins; axis=None flattens"),
)

_METHODS = ("sum", "prod", "mean", "max", "min", "any", "all", "std", "var", "argmax", "argmin")
PATTERNS = PATTERNS + tuple(p.as_method() for p in PATTERNS if p.numpy.rsplit(".", 1)[1] in _METHODS)


def _cum(name, op, dtypes, nan_fill=None, note=""):
    return Pattern(f"numpy.{name}", examples=(f"np.{name}(a)", f"np.{name}(a, axis=0)"),
                   lower=_cumulative(op, nan_fill=nan_fill), handles=("a", "axis"), batch=Batch.AXIS, cast=Cast.NONE,
                   domain=Domain(dtypes=dtypes, ranks=(0, 1, 2)), note=note)


def _nan(name, lower, dtypes, grad=True, note="", extra=()):
    return Pattern(f"numpy.{name}", examples=(f"np.{name}(a)", f"np.{name}(a, axis=-1)", f"np.{name}(a, 0, keepdims=True)"),
                   lower=lower, handles=("a", "axis", "keepdims") + extra, batch=Batch.REDUCE, cast=Cast.NONE,
                   domain=Domain(dtypes=dtypes, ranks=(1, 2), grad=grad), note=note)


def _ufunc_method(name, lower, dtypes, signature, examples, grad=True):
    return Pattern(f"numpy.{name}", examples=examples, lower=lower, signature=signature,
                   handles=("array", "axis", "keepdims", "initial"), arrays=("array",), batch=Batch.AXIS,
                   domain=Domain(dtypes=dtypes, ranks=(1, 2), grad=grad),
                   note="the axis defaults to 0, not None")


_REDUCE_SIGNATURE = "(array, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=True)"
_ACCUMULATE_SIGNATURE = "(array, axis=0, dtype=None, out=None)"

_NEW = (
    _cum("cumsum", "tf.cumsum", NUMERIC + ("bool",), note="axis=None flattens; int32 and bool accumulate in int64"),
    _cum("cumprod", "tf.math.cumprod", NUMERIC + ("bool",), note="axis=None flattens; int32 and bool accumulate in int64"),
    Pattern("numpy.diff", examples=("np.diff(a)", "np.diff(a, n=2, axis=0)"), lower=_diff,
            handles=("a", "n", "axis"), batch=Batch.AXIS, domain=Domain(dtypes=NUMERIC + ("bool",), ranks=(1, 2, 3)),
            note="bools differ by `!=`, as NumPy"),
    Pattern("numpy.count_nonzero", examples=("np.count_nonzero(a)", "np.count_nonzero(a, axis=-1)",
                                             "np.count_nonzero(a, axis=0, keepdims=True)"),
            tf="tf.math.count_nonzero(a, axis=axis, keepdims=keepdims)", cast=Cast.NONE, batch=Batch.REDUCE,
            domain=Domain(dtypes=NUMERIC + ("bool",), ranks=(1, 2), grad=False), note="NaN counts as non-zero"),
    Pattern("numpy.average", examples=("np.average(a)", "np.average(a, axis=-1, weights=b)",
                                       "np.average(a, axis=0, weights=b, keepdims=True)"),
            lower=_average, handles=("a", "axis", "weights", "keepdims"), arrays=("a", "weights"),
            batch=Batch.REDUCE, domain=Domain(dtypes=_NO_F16, ranks=(1, 2, 3)),
            note="weighted: sum(a * w) / sum(w) in NumPy's dtype (NumPy raises on zero weight sums)"),
    Pattern("numpy.ptp", examples=("np.ptp(a)", "np.ptp(a, axis=-1)", "np.ptp(a, 0, keepdims=True)"),
            lower=lambda call: _bind(call.text("a"), lambda x: (
                f"tf.reduce_max({x}{_kw(call, 'axis', 'keepdims')}) - tf.reduce_min({x}{_kw(call, 'axis', 'keepdims')})")),
            handles=("a", "axis", "keepdims"), batch=Batch.REDUCE,
            domain=Domain(dtypes=NUMERIC, ranks=(1, 2), grad=False), note="max - min in the input dtype (wraps)"),
    _nan("nansum", _nanreduce("tf.reduce_sum"), _NO_F16 + ("bool",), note="NaN counts as zero; all-NaN gives 0"),
    _nan("nanmean", _nanmean, _NO_F16 + ("bool",), note="mean of the non-NaN values; all-NaN gives NaN"),
    _nan("nanmax", _nanextremum("tf.reduce_max"), NUMERIC, grad=False, note="NaN skipped; all-NaN gives NaN"),
    _nan("nanmin", _nanextremum("tf.reduce_min"), NUMERIC, grad=False, note="NaN skipped; all-NaN gives NaN"),
    _nan("nanprod", _nanreduce("tf.reduce_prod"), _NO_F16 + ("bool",), note="NaN counts as one; all-NaN gives 1"),
    _nan("nanstd", _nanmoment("std"), _NO_F16, extra=("ddof",), note="non-NaN values; NaN where n - ddof <= 0"),
    _nan("nanvar", _nanmoment("var"), _NO_F16, extra=("ddof",), note="non-NaN values; NaN where n - ddof <= 0"),
    _arg_pattern("nanargmax", "tf.argmax", replace=True,
                 note="NaN ignored (NumPy raises on an all-NaN slice; TF returns an index there)"),
    _arg_pattern("nanargmin", "tf.argmin", replace=True,
                 note="NaN ignored (NumPy raises on an all-NaN slice; TF returns an index there)"),
    _cum("nancumsum", "tf.cumsum", NUMERIC + ("bool",), nan_fill="0.", note="NaN counts as zero; axis=None flattens"),
    _cum("nancumprod", "tf.math.cumprod", NUMERIC + ("bool",), nan_fill="1.", note="NaN counts as one; axis=None flattens"),
    Pattern("numpy.median", examples=("np.median(a)", "np.median(a, axis=0, keepdims=True)"),
            lower=_median, handles=("a", "axis", "keepdims"), batch=Batch.REDUCE, cast=Cast.NONE,
            domain=Domain(dtypes=NUMERIC, ranks=(1, 2, 3)),
            note="even counts average the two middle values; a slice with NaN gives NaN"),
    Pattern("numpy.percentile", examples=("np.percentile(a, 30)", "np.percentile(a, [10, 50, 95], axis=0)"),
            lower=_quantile(True), handles=("a", "q", "axis"), batch=Batch.REDUCE, cast=Cast.NONE,
            domain=Domain(dtypes=NUMERIC, ranks=(1, 2, 3)),
            note="linear method only; scalar q keeps the float dtype, a list gives float64"),
    Pattern("numpy.quantile", examples=("np.quantile(a, 0.3)", "np.quantile(a, [0.1, 0.5, 1.0], axis=-1)"),
            lower=_quantile(False), handles=("a", "q", "axis"), batch=Batch.REDUCE, cast=Cast.NONE,
            domain=Domain(dtypes=NUMERIC, ranks=(1, 2, 3)),
            note="linear method only; scalar q keeps the float dtype, a list gives float64"),
    Pattern("numpy.cumulative_sum", examples=("np.cumulative_sum(a, axis=-1)", "np.cumulative_sum(a, axis=0)"),
            lower=_cumulative("tf.cumsum", array="x"), handles=("x", "axis"), batch=Batch.AXIS,
            domain=Domain(dtypes=NUMERIC + ("bool",), ranks=(1, 2, 3)), note="include_initial is not rewritten"),
    Pattern("numpy.cumulative_prod", examples=("np.cumulative_prod(a, axis=-1)", "np.cumulative_prod(a, axis=0)"),
            lower=_cumulative("tf.math.cumprod", array="x"), handles=("x", "axis"), batch=Batch.AXIS,
            domain=Domain(dtypes=NUMERIC + ("bool",), ranks=(1, 2, 3)), note="include_initial is not rewritten"),
    Pattern("numpy.ediff1d", examples=("np.ediff1d(a)",), lower=_ediff1d, handles=("ary",),
            domain=Domain(dtypes=NUMERIC, ranks=(0, 1, 2)), batch=Batch.NONE,
            note="flattens first; to_begin/to_end are not rewritten"),
    Pattern("numpy.trapezoid", examples=("np.trapezoid(a)", "np.trapezoid(a, dx=0.5, axis=0)"),
            lower=_trapezoid, handles=("y", "dx", "axis"), batch=Batch.AXIS, cast=Cast.NONE,
            domain=Domain(dtypes=_NO_F16, ranks=(1, 2, 3)), note="sample points x= are not rewritten"),
    _ufunc_method("add.reduce", _reduce("tf.reduce_sum", _SUM, axis_default=0), _NO_F16 + ("bool",),
                  _REDUCE_SIGNATURE, ("np.add.reduce(a)", "np.add.reduce(a, axis=-1, keepdims=True)")),
    _ufunc_method("multiply.reduce", _reduce("tf.reduce_prod", _PROD, axis_default=0), _NO_F16,
                  _REDUCE_SIGNATURE, ("np.multiply.reduce(a)", "np.multiply.reduce(a, axis=-1)")),
    _ufunc_method("maximum.reduce", _reduce("tf.reduce_max", _MAX, axis_default=0), NUMERIC,
                  _REDUCE_SIGNATURE, ("np.maximum.reduce(a)", "np.maximum.reduce(a, axis=-1, initial=0)"), grad=False),
    _ufunc_method("minimum.reduce", _reduce("tf.reduce_min", _MIN, axis_default=0), NUMERIC,
                  _REDUCE_SIGNATURE, ("np.minimum.reduce(a)", "np.minimum.reduce(a, axis=-1, initial=0)"), grad=False),
    _ufunc_method("add.accumulate", _cumulative("tf.cumsum", array="array", axis_default=0), NUMERIC,
                  _ACCUMULATE_SIGNATURE, ("np.add.accumulate(a)", "np.add.accumulate(a, axis=-1)")),
    _ufunc_method("multiply.accumulate", _cumulative("tf.math.cumprod", array="array", axis_default=0), NUMERIC,
                  _ACCUMULATE_SIGNATURE, ("np.multiply.accumulate(a)", "np.multiply.accumulate(a, axis=-1)")),
)

PATTERNS = PATTERNS + _NEW + tuple(
    p.as_method() for p in _NEW if p.numpy.rsplit(".", 1)[1] in ("cumsum", "cumprod"))
