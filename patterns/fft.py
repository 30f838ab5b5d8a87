"""Discrete Fourier transforms (`numpy.fft`).

`tf.signal.fft` takes only complex input: real input is cast to the complex dtype NumPy would
return (complex64 for float16/float32 under NumPy 2, complex128 otherwise; a cast to complex64
of float64 data would lose precision). TF transforms only the innermost 1, 2 or 3 axes, so other
axes are transposed there and back. `n=`/`s=` zero-pad or crop each transformed axis first
(`tf.pad` by n zeros, then a slice of length n: one expression for both cases), and `norm=` is
applied as NumPy's scale factor relative to TF's own (TF's inverses divide by n). NumPy rounds
that factor in the input's real dtype on the first pass (float16 for float16 input), which is
reproduced where the result is complex64.
"""
import numpy as np

from rewriter.facts import Kind, tf_name
from rewriter.pattern import COMPLEX, FLOATS, INTS, Batch, Cast, Domain, Pattern

FAMILY_CODE = "NPF"

_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_REAL_OF = {"complex64": "float32", "complex128": "float64"}
_COMPLEX_OF = {"float16": "complex64", "float32": "complex64", "float64": "complex128"}


def _rank(call, name="a") -> int:
    fact = call.fact(name)
    if fact.kind is not Kind.ARRAY or fact.rank is None:
        call.refuse("the rank of the input is unknown")
    return fact.rank


def _norm(call) -> str:
    norm = call.const("norm", None)
    norm = "backward" if norm is None else norm
    if norm not in _SWAP:
        call.refuse(f"norm={norm!r} is not one of NumPy's")
    return norm


def _int(call, value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        call.refuse(f"{what} must be constant integers")
    return int(value)


def _plan(call, kind):
    """(rank, axes, sizes) with NumPy's defaults: axes non-negative, sizes an int per axis or
    None where the input's own length is used."""
    rank = _rank(call)
    if kind == "1d":
        axes = [_int(call, call.const("axis", -1), "axis")]
        n = call.const("n", None)
        sizes = [None if n is None else _int(call, n, "n")]
    else:
        default_axes = (-2, -1) if kind == "2d" else None
        s = call.const("s", None) if call.given("s") else None
        axes = call.const("axes", default_axes) if call.given("axes") else default_axes
        if s is not None:
            s = [s] if not isinstance(s, tuple) else list(s)
        if axes is None:
            axes = list(range(-len(s), 0)) if s is not None else list(range(rank))
        axes = [_int(call, a, "axes") for a in (axes if isinstance(axes, tuple) else
                                                 axes if isinstance(axes, list) else [axes])]
        if s is None:
            sizes = [None] * len(axes)
        else:
            if len(s) != len(axes):
                call.refuse("s and axes differ in length")
            sizes = [None if v == -1 else _int(call, v, "s") for v in s]
    for a in axes:
        if not -rank <= a < rank:
            call.refuse(f"axis {a} is out of bounds")
    axes = [a % rank for a in axes]
    if len(set(axes)) != len(axes):
        call.refuse("repeated axes (transformed twice) are not rewritten")
    if not 1 <= len(axes) <= 3:
        call.refuse("TF transforms one to three axes at a time")
    if any(v is not None and v < 1 for v in sizes):
        call.refuse("transform lengths must be positive")
    return rank, axes, sizes


def _pad_crop(x, rank, axes, sizes) -> str:
    """Zero-pad every sized axis by n, then keep its first n entries: NumPy's n= for both a
    shorter and a longer input, with `x` used once."""
    sized = [(a, n) for a, n in zip(axes, sizes) if n is not None]
    if not sized:
        return x
    paddings = [[0, 0] for _ in range(rank)]
    for a, n in sized:
        paddings[a] = [0, n]
    last = max(a for a, _ in sized)
    index = [":" for _ in range(last + 1)]
    for a, n in sized:
        index[a] = f":{n}"
    return f"tf.pad({x}, {paddings})[{', '.join(index)}]"


def _to_end(x, rank, axes):
    """`x` with the transformed axes moved last (in order), and the permutation back."""
    perm = [i for i in range(rank) if i not in axes] + list(axes)
    if perm == list(range(rank)):
        return x, None
    back = [perm.index(i) for i in range(rank)]
    return f"tf.transpose({x}, {perm})", back


def _factor(effective, tf_inverse, size, half, length, real_dtype):
    """NumPy's scale for one axis relative to what the TF op already does (TF's inverses
    divide by the length): a float when the length is known, else a list of TF factors.

    `effective` is the norm NumPy's 1-D pass applies after its own swap for inverses
    ('backward': 1, 'ortho': 1/sqrt(n), 'forward': 1/n); `half` whether NumPy rounds that
    factor in float16 (its first pass over float16 input); `length` the run-time length."""
    if size is not None:
        if half:
            n16 = np.float16(size)
            fct = {"backward": np.float16(1), "ortho": np.reciprocal(np.sqrt(n16)),
                   "forward": np.reciprocal(n16)}[effective]
            return float(fct) * (size if tf_inverse else 1)
        if tf_inverse:
            return {"backward": float(size), "ortho": float(np.sqrt(size)), "forward": 1.0}[effective]
        return {"backward": 1.0, "ortho": float(1 / np.sqrt(size)), "forward": 1 / size}[effective]
    if half:
        n16 = f"tf.cast({length}, tf.float16)"
        fct = {"backward": None, "ortho": f"tf.math.reciprocal(tf.sqrt({n16}))",
               "forward": f"tf.math.reciprocal({n16})"}[effective]
        terms = [f"tf.cast({fct}, tf.float32)"] if fct else []
        return terms + ([f"tf.cast({length}, tf.float32)"] if tf_inverse else [])
    n = f"tf.cast({length}, {real_dtype})"
    if tf_inverse:
        return {"backward": [n], "ortho": [f"tf.sqrt({n})"], "forward": []}[effective]
    return {"backward": [], "ortho": [f"tf.math.rsqrt({n})"], "forward": [f"tf.math.reciprocal({n})"]}[effective]


def _cheap(text: str) -> bool:
    """Whether the input's text may appear twice (for its length): a name."""
    import re

    return re.fullmatch(r"[A-Za-z_][\w.]*", text.strip()) is not None


def _scale(out, factors, complex_dtype) -> str:
    """`out` times the product of the per-axis factors (cast to the complex output dtype)."""
    constant = 1.0
    terms = []
    for f in factors:
        if isinstance(f, float):
            constant *= f
        else:
            terms.extend(f)
    if terms and complex_dtype is not None:
        terms = [f"tf.cast({' * '.join(terms)}, {tf_name(complex_dtype)})"]
    if constant != 1.0:
        terms.insert(0, repr(constant))
    if not terms:
        return out
    return f"{out} * {' * '.join(terms)}"


_OPS = {
    ("c2c", True): ("tf.signal.fft", "tf.signal.fft2d", "tf.signal.fft3d"),
    ("c2c", False): ("tf.signal.ifft", "tf.signal.ifft2d", "tf.signal.ifft3d"),
    ("r2c", True): ("tf.signal.rfft", "tf.signal.rfft2d", "tf.signal.rfft3d"),
    ("c2r", False): ("tf.signal.irfft", "tf.signal.irfft2d", "tf.signal.irfft3d"),
}


def _transform(kind, forward, dims, hermitian=False):
    """A lowering for one NumPy transform.

    kind: 'c2c' (fft, ifft, fftn...), 'r2c' (rfft...), 'c2r' (irfft...); `hermitian` marks
    hfft (irfft of the conjugate) and ihfft (conjugate of rfft), whose norm NumPy swaps."""

    def lower(call):
        rank, axes, sizes = _plan(call, dims)
        norm = _norm(call)
        if hermitian:
            norm = _SWAP[norm]
        fact = call.fact("a")
        result = call.result.dtype
        source = call.text("a")

        def length_of(axis):
            if not _cheap(source):
                call.refuse("this call needs the input's length; assign the input to a name first")
            return f"tf.shape({source})[{axis}]"

        if kind == "c2c":
            work = result
        elif kind == "r2c":
            if fact.dtype.kind == "c":
                call.refuse("real transforms of complex input discard the imaginary part")
            work = np.dtype(_REAL_OF[result.name])
        else:
            work = np.dtype(_COMPLEX_OF[result.name])
        x = call.cast("a", work)
        if kind == "c2r" and hermitian and fact.dtype.kind == "c":
            x = f"tf.math.conj({x})"
        fft_length = ""
        if kind == "c2r":
            # Every axis is padded/cropped here, the last one's input to n // 2 + 1 (TF would
            # crop it too, but pads an empty input with garbage), and TF is told the output length.
            inner = [None if v is None else v // 2 + 1 for v in sizes[-1:]]
            x = _pad_crop(x, rank, axes, sizes[:-1] + inner)
            if sizes[-1] is not None:
                lengths = [str(v) if v is not None else length_of(a) for a, v in zip(axes[:-1], sizes[:-1])]
                fft_length = f", [{', '.join(lengths + [str(sizes[-1])])}]"
        else:
            x = _pad_crop(x, rank, axes, sizes)
        moved, back = _to_end(x, rank, axes)
        out = f"{_OPS[(kind, forward)][len(axes) - 1]}({moved}{fft_length})"
        if back is not None:
            out = f"tf.transpose({out}, {back})"
        complex_out = result.kind == "c"
        real_dtype = tf_name(_REAL_OF[result.name] if complex_out else
                             ("float32" if result.name == "float16" else result.name))
        effective = norm if forward else _SWAP[norm]
        factors = []
        # NumPy's first pass (the last axis; the first complex axis of irfftn) rounds its
        # factor in float16 on float16 input, visible unless the result is float16 itself.
        first = 0 if kind == "c2r" else len(axes) - 1
        for position, (axis, size) in enumerate(zip(axes, sizes)):
            last = position == len(axes) - 1
            half = fact.dtype.name == "float16" and result.name != "float16" and position == first
            trivial = (effective == "forward" and not forward) or (effective == "backward" and forward)
            if size is None and (not trivial or half):
                length = (f"2 * ({length_of(axis)} - 1)" if kind == "c2r" and last else length_of(axis))
            else:
                length = None
            factors.append(_factor(effective, not forward, size, half, length, real_dtype))
        out = _scale(out, factors, result if complex_out else None)
        if kind == "r2c" and hermitian:
            out = f"tf.math.conj({out})"
        if result.name == "float16":
            out = f"tf.cast({out}, tf.float16)"
        return out

    lower.__doc__ = f"{_OPS[(kind, forward)][0]} with NumPy's axes, lengths and norm"
    return lower


def _shift(tf_fn):
    def lower(call):
        axes = f", axes={call.text('axes')}" if call.given("axes") else ""
        return f"{tf_fn}({call.text('x')}{axes})"

    lower.__doc__ = f"{tf_fn} (all axes by default, as NumPy)"
    return lower


def _freq(real):
    def lower(call):
        """NumPy's integer frequencies times 1 / (n * d), in float64."""
        n = call.const("n")
        d = call.const("d", 1.0)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            call.refuse("n must be a constant positive integer")
        if isinstance(d, bool) or not isinstance(d, (int, float)):
            call.refuse("d must be a constant number")
        n = int(n)
        val = 1.0 / (n * d)  # the same float64 operations as NumPy
        dtype = tf_name(call.result.dtype)
        if real:
            ints = f"tf.range({n // 2 + 1})"
        else:
            ints = f"tf.concat([tf.range({(n - 1) // 2 + 1}), tf.range({-(n // 2)}, 0)], 0)"
        return f"tf.cast({ints}, {dtype}) * {val!r}"

    return lower


_HANDLES_1D = ("a", "n", "axis", "norm")
_HANDLES_ND = ("a", "s", "axes", "norm")
_COMPLEX_IN = Domain(dtypes=FLOATS + INTS + COMPLEX, ranks=(1, 2))
_REAL_IN = Domain(dtypes=FLOATS + INTS, ranks=(1, 2))
_ND = Domain(dtypes=FLOATS + ("int32",) + COMPLEX, ranks=(2, 3))
_REAL_ND = Domain(dtypes=FLOATS + ("int32",), ranks=(2, 3))
# TF registers no gradient for RFFT3D/IRFFT3D: 3-axis real transforms are not differentiable.
_REAL_ND_NOGRAD = Domain(dtypes=FLOATS + ("int32",), ranks=(2, 3), grad=False)
_ND_NOGRAD = Domain(dtypes=FLOATS + ("int32",) + COMPLEX, ranks=(2, 3), grad=False)


def _p(name, lower, examples, domain, handles=_HANDLES_1D, **kw):
    return Pattern(f"numpy.fft.{name}", examples=examples, lower=lower, handles=handles, cast=Cast.NONE,
                   batch=Batch.NONE, domain=domain, **kw)


PATTERNS = (
    _p("fft", _transform("c2c", True, "1d"), ("np.fft.fft(a)", "np.fft.fft(a, 8, axis=0, norm='ortho')"),
       _COMPLEX_IN, note="real input cast to NumPy's complex dtype first (TF's fft takes complex only)"),
    _p("ifft", _transform("c2c", False, "1d"), ("np.fft.ifft(a)", "np.fft.ifft(a, n=3, norm='forward')"),
       _COMPLEX_IN),
    _p("fft2", _transform("c2c", True, "2d"), ("np.fft.fft2(a)", "np.fft.fft2(a, s=(4, 6), norm='ortho')"),
       _ND, handles=_HANDLES_ND),
    _p("ifft2", _transform("c2c", False, "2d"), ("np.fft.ifft2(a)", "np.fft.ifft2(a, axes=(0, -1))"),
       _ND, handles=_HANDLES_ND),
    _p("rfft", _transform("r2c", True, "1d"), ("np.fft.rfft(a)", "np.fft.rfft(a, n=8, axis=0, norm='forward')"),
       _REAL_IN),
    _p("irfft", _transform("c2r", False, "1d"), ("np.fft.irfft(a)", "np.fft.irfft(np.fft.rfft(a), 5, norm='ortho')",
                                                 "np.fft.irfft(a, axis=0)"),
       Domain(dtypes=FLOATS + INTS + COMPLEX, ranks=(1, 2)), note="default n = 2 * (m - 1), as NumPy"),
    Pattern("numpy.fft.fftshift", examples=("np.fft.fftshift(a)", "np.fft.fftshift(a, axes=-1)"),
            lower=_shift("tf.signal.fftshift"), handles=("x", "axes"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=FLOATS + INTS + COMPLEX, ranks=(1, 2))),
    Pattern("numpy.fft.ifftshift", examples=("np.fft.ifftshift(a)",), lower=_shift("tf.signal.ifftshift"),
            handles=("x", "axes"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=FLOATS + INTS + COMPLEX, ranks=(1, 2))),
    _p("hfft", _transform("c2r", False, "1d", hermitian=True), ("np.fft.hfft(a)", "np.fft.hfft(np.fft.ihfft(a), 6, norm='ortho')"),
       Domain(dtypes=FLOATS + ("int32",) + COMPLEX, ranks=(1, 2)), note="irfft of the conjugate, norm swapped"),
    _p("ihfft", _transform("r2c", True, "1d", hermitian=True), ("np.fft.ihfft(a)", "np.fft.ihfft(a, axis=0)"),
       Domain(dtypes=FLOATS + ("int32",), ranks=(1, 2)), note="conjugate of rfft, norm swapped"),
    _p("rfft2", _transform("r2c", True, "2d"), ("np.fft.rfft2(a)", "np.fft.rfft2(a, s=(2, 6), norm='ortho')"),
       _REAL_ND, handles=_HANDLES_ND),
    _p("irfft2", _transform("c2r", False, "2d"), ("np.fft.irfft2(a)", "np.fft.irfft2(a, s=(3, 5), axes=(0, 1))"),
       _ND, handles=_HANDLES_ND),
    _p("fftn", _transform("c2c", True, "nd"), ("np.fft.fftn(a)", "np.fft.fftn(a, axes=(0,), norm='forward')"),
       _ND, handles=_HANDLES_ND),
    _p("ifftn", _transform("c2c", False, "nd"), ("np.fft.ifftn(a)", "np.fft.ifftn(a, s=(5,), axes=(-1,))"),
       _ND, handles=_HANDLES_ND),
    _p("rfftn", _transform("r2c", True, "nd"), ("np.fft.rfftn(a)", "np.fft.rfftn(a, s=(3, 4), axes=(1, 0))"),
       _REAL_ND_NOGRAD, handles=_HANDLES_ND, note="no gradient over three axes (TF has no RFFT3D gradient)"),
    _p("irfftn", _transform("c2r", False, "nd"), ("np.fft.irfftn(a)", "np.fft.irfftn(a, axes=(0, 1), norm='ortho')"),
       _ND_NOGRAD, handles=_HANDLES_ND, note="no gradient over three axes (TF has no IRFFT3D gradient)"),
    Pattern("numpy.fft.fftfreq", examples=("np.fft.fftfreq(8)", "np.fft.fftfreq(7, d=0.1)"), lower=_freq(False),
            handles=("n", "d"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=("float64",), ranks=(1,), grad=False)),
    Pattern("numpy.fft.rfftfreq", examples=("np.fft.rfftfreq(8)", "np.fft.rfftfreq(7, d=0.5)"), lower=_freq(True),
            handles=("n", "d"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=("float64",), ranks=(1,), grad=False)),
)
