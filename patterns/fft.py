"""Discrete Fourier transforms (`numpy.fft`).

`tf.signal.fft` takes only complex input: real input is cast to the complex dtype NumPy would
return (complex64 for float32 under NumPy 2, complex128 otherwise). TF transforms the innermost
axes only, so other axes, `n=` and `norm=` are refused until composed.
"""
from rewriter.facts import tf_name
from rewriter.pattern import COMPLEX, FLOATS, INTS, Batch, Cast, Domain, Pattern

FAMILY_CODE = "NP5"


def _plain(call, last_axes=1):
    if call.given("n") and call.const("n", None) is not None:
        call.refuse("n= (padding or cropping) is not rewritten yet")
    if call.const("norm", None) not in (None, "backward"):
        call.refuse("norm= other than 'backward' is not rewritten yet")
    if last_axes == 1 and call.const("axis", -1) != -1:
        call.refuse("only the last axis is transformed by TF")
    if last_axes == 2 and call.given("axes") and tuple(call.const("axes")) != (-2, -1):
        call.refuse("only the last two axes are transformed by TF")


def _complex_transform(tf_fn, last_axes=1):
    def lower(call):
        _plain(call, last_axes)
        return f"{tf_fn}({call.cast('a', call.result.dtype)})"

    lower.__doc__ = f"{tf_fn} on input cast to NumPy's complex result dtype"
    return lower


def _real_transform(tf_fn):
    def lower(call):
        _plain(call)
        real = {"complex64": "float32", "complex128": "float64"}[call.result.dtype.name]
        return f"{tf_fn}({call.cast('a', real)})"

    lower.__doc__ = f"{tf_fn} on input cast to NumPy's real working dtype"
    return lower


def _irfft(call):
    """tf.signal.irfft; NumPy's default output length is 2 * (m - 1), TF's too."""
    _plain(call)
    complex_dtype = {"float32": "complex64", "float64": "complex128"}[call.result.dtype.name]
    return f"tf.signal.irfft({call.cast('a', complex_dtype)})"


def _shift(tf_fn):
    def lower(call):
        axes = f", axes={call.text('axes')}" if call.given("axes") else ""
        return f"{tf_fn}({call.text('x')}{axes})"

    lower.__doc__ = f"{tf_fn} (all axes by default, as NumPy)"
    return lower


_DOMAIN = Domain(dtypes=FLOATS + INTS + COMPLEX, ranks=(1, 2))
_REAL = Domain(dtypes=FLOATS + INTS, ranks=(1, 2))

PATTERNS = (
    Pattern("numpy.fft.fft", examples=("np.fft.fft(a)",), lower=_complex_transform("tf.signal.fft"),
            handles=("a", "n", "axis", "norm"), cast=Cast.NONE, batch=Batch.ELEMENTWISE, domain=_DOMAIN,
            note="real input cast to complex first (TF's fft takes complex only)"),
    Pattern("numpy.fft.ifft", examples=("np.fft.ifft(a)",), lower=_complex_transform("tf.signal.ifft"),
            handles=("a", "n", "axis", "norm"), cast=Cast.NONE, domain=_DOMAIN),
    Pattern("numpy.fft.fft2", examples=("np.fft.fft2(a)",), lower=_complex_transform("tf.signal.fft2d", 2),
            handles=("a", "s", "axes", "norm"), cast=Cast.NONE, batch=Batch.MATRIX,
            domain=Domain(dtypes=FLOATS + COMPLEX, ranks=(2, 3))),
    Pattern("numpy.fft.ifft2", examples=("np.fft.ifft2(a)",), lower=_complex_transform("tf.signal.ifft2d", 2),
            handles=("a", "s", "axes", "norm"), cast=Cast.NONE, batch=Batch.MATRIX,
            domain=Domain(dtypes=FLOATS + COMPLEX, ranks=(2, 3))),
    Pattern("numpy.fft.rfft", examples=("np.fft.rfft(a)",), lower=_real_transform("tf.signal.rfft"),
            handles=("a", "n", "axis", "norm"), cast=Cast.NONE, domain=_REAL),
    Pattern("numpy.fft.irfft", examples=("np.fft.irfft(np.fft.rfft(a))",), lower=_irfft,
            handles=("a", "n", "axis", "norm"), cast=Cast.NONE, domain=Domain(dtypes=FLOATS, ranks=(1, 2))),
    Pattern("numpy.fft.fftshift", examples=("np.fft.fftshift(a)", "np.fft.fftshift(a, axes=-1)"),
            lower=_shift("tf.signal.fftshift"), handles=("x", "axes"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=FLOATS + INTS + COMPLEX, ranks=(1, 2))),
    Pattern("numpy.fft.ifftshift", examples=("np.fft.ifftshift(a)",), lower=_shift("tf.signal.ifftshift"),
            handles=("x", "axes"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=FLOATS + INTS + COMPLEX, ranks=(1, 2))),
)
