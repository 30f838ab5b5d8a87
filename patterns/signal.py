"""Window functions and framing: hanning, hamming, blackman, bartlett, kaiser, sliding_window_view.

NumPy's windows are symmetric and computed in float64 from M converted to float64
(`n = arange(1 - M, M, 2)`, then e.g. `0.5 + 0.5 * cos(pi * n / (M - 1))`); M < 1 gives an
empty window and M == 1 exactly [1.0]. `tf.signal.hann_window` is periodic by default and, even
with `periodic=False`, is computed in float32 unless asked otherwise and by another formula, so
the windows are written out from NumPy's own formula in float64, with the same order of
operations. M may be a Python int known when rewriting (the window's constants are then
spelled out) or an integer held as a tensor (`x.shape[-1]` is `tf.shape(x)[-1]`): the call then
goes to a helper of the same name (`np_hanning(m)`, see `rewriter/tf_helpers.py`).

`sliding_window_view` returns the windows as a new last axis: `tf.signal.frame` with step 1
(moved last when the windowed axis is not the last one).
"""
import gast
import numpy as np

from rewriter import helper_source
from rewriter.facts import Kind, array
from rewriter.pattern import ALL, Batch, Cast, Domain, Pattern

FAMILY_CODE = "NPW"

_PI = repr(float(np.pi))
_TWO_PI = repr(2.0 * float(np.pi))  # NumPy's `2.0 * pi * n` multiplies the scalars first


def _length(call, name="M"):
    """The window length: (int, None) when known at rewrite time, else (None, text of an
    integer tensor or Python int)."""
    fact = call.fact(name)
    if fact.kind is Kind.SCALAR and fact.pytype is not bool:
        if fact.known:
            value = fact.value
            if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
                return int(value), None
            call.refuse(f"{name} must be an integer")
        if fact.pytype is int or (fact.tensor and fact.dtype is not None and fact.dtype.kind in "iu"):
            return None, call.text(name)
    if fact.kind is Kind.ARRAY and fact.rank == 0 and fact.dtype is not None and fact.dtype.kind in "iu":
        return None, call.text(name)
    call.refuse(f"{name} must be an integer (a float M changes NumPy's arange)")


def _let(names, values, body):
    """`body` with `names` bound to `values` by an immediately applied lambda."""
    return f"(lambda {', '.join(names)}: {body})({', '.join(values)})"


def _symmetric(name, formula, uses_n_twice=False):
    """A window of NumPy's form f(n, M - 1) over n = 1 - M, 3 - M, ..., M - 1 (float64)."""

    def lower(call):
        size, text = _length(call)
        if size is not None:
            if size < 1:
                return "tf.zeros([0], dtype=tf.float64)"
            if size == 1:
                return "tf.ones([1], dtype=tf.float64)"
            n = f"tf.range({float(1 - size)!r}, {float(size)!r}, 2.0, dtype=tf.float64)"
            d = repr(float(size - 1))
            if uses_n_twice:
                return _let(["n"], [n], formula("n", d))
            return formula(n, d)
        # M from a tensor: the helper computes the same formula over m = max(M, 0) in float64,
        # and gives exactly 1.0 for M == 1, where the formula divides 0 by 0 (or rounds).
        return helper_source.call(f"np_{name}", text)

    lower.__doc__ = f"NumPy's {name} formula {formula('n', '(M - 1)')} in float64; [] for M < 1, [1.0] for M == 1"
    return lower


def _hanning(n, d):
    return f"0.5 + 0.5 * tf.cos({_PI} * {n} / {d})"


def _hamming(n, d):
    return f"0.54 + 0.46 * tf.cos({_PI} * {n} / {d})"


def _blackman(n, d):
    return f"0.42 + 0.5 * tf.cos({_PI} * {n} / {d}) + 0.08 * tf.cos({_TWO_PI} * {n} / {d})"


def _bartlett(n, d):
    return f"tf.where({n} <= 0.0, 1.0 + {n} / {d}, 1.0 - {n} / {d})"


def _beta(call):
    """beta in float64 (NumPy converts it with M to float64): a literal or a tensor text."""
    fact = call.fact("beta")
    if fact.kind is Kind.SCALAR and fact.pytype in (int, float):
        if fact.known:
            return repr(float(fact.value)), True
        return f"tf.cast({call.text('beta')}, tf.float64)", False
    if fact.kind is Kind.ARRAY and fact.rank == 0 and fact.dtype is not None and fact.dtype.kind in "iuf":
        return call.lowering.cast(call.args["beta"], np.float64).text, False
    call.refuse("beta must be a real number")


def _kaiser(call):
    """NumPy's kaiser in float64: i0(beta * sqrt(1 - ((n - alpha) / alpha) ** 2)) / i0(beta)
    over n = 0, ..., M - 1 with alpha = (M - 1) / 2; M == 1 gives exactly [1.0]."""
    size, text = _length(call)
    beta, literal = _beta(call)
    if size is not None and size < 1:
        return "tf.zeros([0], dtype=tf.float64)"
    if size == 1:
        return "tf.ones([1], dtype=tf.float64)"

    def window(ratio, b, b_tensor=None):
        return (f"tf.math.bessel_i0({b} * tf.sqrt(1.0 - tf.square({ratio}))) / "
                f"tf.math.bessel_i0({b_tensor or b})")

    if size is not None:
        alpha = repr((size - 1) / 2.0)
        ratio = f"(tf.range({size}, dtype=tf.float64) - {alpha}) / {alpha}"
        if literal:  # a bare literal on its own would be a float32 tensor
            return window(ratio, beta, f"tf.constant({beta}, tf.float64)")
        return _let(["b"], [beta], window(ratio, "b"))
    return helper_source.call("np_kaiser", text, beta)


def _single(call, name):
    """An int or a one-element tuple/list: the Lowered of that one element (or refuses)."""
    value = call.args[name]
    fact = value.fact
    if fact.kind is Kind.TUPLE:
        if len(fact.items) != 1:
            return None
        if value.items is not None:
            return value.items[0]
        if fact.items[0].known:
            return str(fact.items[0].value)
        return None
    return value


def _window_shape(call):
    """The window length as text: a non-negative int constant or an integer tensor."""
    single = _single(call, "window_shape")
    if single is None:
        call.refuse("only one windowed axis is rewritten")
    if isinstance(single, str):
        text, fact = single, None
    else:
        text, fact = single.text, single.fact
    if fact is not None:
        if fact.kind is Kind.SCALAR and fact.known:
            if not isinstance(fact.value, (int, np.integer)) or isinstance(fact.value, bool) or fact.value < 0:
                call.refuse("window_shape must be a non-negative integer")
        elif not ((fact.kind is Kind.SCALAR and fact.pytype is int)
                  or (fact.kind is Kind.ARRAY and fact.rank == 0 and fact.dtype is not None and fact.dtype.kind in "iu")):
            call.refuse("window_shape must be an integer")
    return text


def _sliding_window_view(call):
    """tf.signal.frame with step 1 over one axis; the window axis is put last, as NumPy's."""
    x = call.fact("x")
    if x.kind is not Kind.ARRAY or x.rank is None:
        call.refuse("the rank of the input is unknown")
    rank = x.rank
    if not call.given("axis") or (call.fact("axis").known and call.fact("axis").value is None):
        if rank != 1:
            call.refuse("window_shape needs one length per axis when axis=None (only 1-D input is rewritten)")
        axis = -1
    else:
        axis = call.const("axis")
        if isinstance(axis, tuple):
            if len(axis) != 1:
                call.refuse("only one windowed axis is rewritten")
            axis = axis[0]
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            call.refuse("axis must be an integer")
        axis = int(axis)
        if not -rank <= axis < rank:
            call.refuse(f"axis {axis} is out of bounds")
        axis = axis - rank if axis >= 0 else axis
    if rank == 0:
        call.refuse("a 0-d input has no axis to window")
    width = _window_shape(call)
    _refuse_strided_framing(call, axis + rank)
    text = call.text("x")
    if axis == -1:
        return f"tf.signal.frame({text}, {width}, 1)"
    if x.batched:
        call.refuse("a windowed axis other than the last is not rewritten inside a vectorized body")
    # frame() puts the window axis right after the framed one; NumPy appends it.
    framed = axis + rank  # non-negative position of the framed axis
    perm = [i for i in range(rank + 1) if i != framed + 1] + [framed + 1]
    return f"tf.transpose(tf.signal.frame({text}, {width}, 1, axis={axis}), {perm})"


def _refuse_strided_framing(call, start_axis):
    """`sliding_window_view(x, w)[::hop]` (the framing idiom) only views memory in NumPy, but TF
    would build all n - w + 1 windows (w times the input) to keep one in `hop`: refused, so the
    step can be folded into `tf.signal.frame(x, w, hop)` instead of being paid for."""
    parent = call.lowering.resolver.parents.get(call.node)
    if not isinstance(parent, gast.Subscript) or parent.value is not call.node:
        return
    components = list(parent.slice.elts) if isinstance(parent.slice, gast.Tuple) else [parent.slice]
    if len(components) <= start_axis or not all(isinstance(c, gast.Slice) for c in components[:start_axis]):
        return  # an index, `...` or newaxis before it: not a plain slice of the start axis
    component = components[start_axis]
    if isinstance(component, gast.Slice) and component.step is not None and not (
            isinstance(component.step, gast.Constant) and component.step.value in (1, None)):
        call.refuse("slicing the windows with a step right away: NumPy only views them, but TF would "
                    "build every step-1 window (w times the input) and keep one in `step` (the step "
                    "needs to be folded into tf.signal.frame(x, w, step))")


def _windowed_result(facts):
    """A view of x in NumPy (not fresh: an in-place update of x or of it is then refused)."""
    x = facts["x"]
    return array(x.dtype, None if x.rank is None else x.rank + 1, fresh=False)


_WINDOW = Domain(dtypes=("float32", "float64", "int32", "int64"), ranks=(0, 1, 2), grad=False)


def _window(name, formula, uses_n_twice=False, note=""):
    return Pattern(
        f"numpy.{name}",
        examples=(f"a * np.{name}(a.shape[-1])", f"np.{name}(7) + np.{name}(1) + a",
                  f"np.concatenate([np.{name}(np.sum(a > 0)), np.{name}(0), np.{name}(-2)])"),
        lower=_symmetric(name, formula, uses_n_twice), handles=("M",), cast=Cast.NONE, batch=Batch.NONE,
        domain=_WINDOW,
        note=note or "NumPy's symmetric window in float64 (tf.signal windows are periodic by default and float32)")


PATTERNS = (
    _window("hanning", _hanning,
            note="symmetric, float64 from NumPy's formula; tf.signal.hann_window is periodic by default "
                 "and float32 (relative error near the edges 7e-5 for M=400, 1.4e-3 for M=1024)"),
    _window("hamming", _hamming),
    _window("blackman", _blackman, uses_n_twice=True,
            note="NumPy's formula in float64; M == 1 is exactly [1.0] (the formula rounds to 1 - 2**-53)"),
    _window("bartlett", _bartlett, uses_n_twice=True),
    Pattern("numpy.kaiser",
            examples=("a * np.kaiser(a.shape[-1], 6.0)", "np.kaiser(7, 2) + np.kaiser(1, 3.5) + a",
                      "np.concatenate([np.kaiser(np.sum(a > 0), np.max(a)), np.kaiser(0, 1.0), np.kaiser(-2, 1.0)])"),
            lower=_kaiser, handles=("M", "beta"), cast=Cast.NONE, batch=Batch.NONE, domain=_WINDOW,
            note="NumPy's formula in float64 with tf.math.bessel_i0; M == 1 is exactly [1.0]"),
    Pattern("numpy.lib.stride_tricks.sliding_window_view",
            examples=("np.lib.stride_tricks.sliding_window_view(a, 2)",
                      "np.lib.stride_tricks.sliding_window_view(a, a.shape[-1] - 1, axis=-1)",
                      "np.lib.stride_tricks.sliding_window_view(a, (2,), axis=(0,))"),
            lower=_sliding_window_view, handles=("x", "window_shape", "axis"), arrays=("x",), cast=Cast.NONE,
            result=_windowed_result, batch=Batch.AXIS, domain=Domain(dtypes=ALL, ranks=(1, 2, 3), grad=True),
            note="windows as a new last axis: tf.signal.frame(x, w, 1), moved last for another axis; "
                 "a view in NumPy, a new tensor in TF (writeable=True is refused)"),
)
