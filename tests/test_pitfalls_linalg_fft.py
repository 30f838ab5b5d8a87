"""Semantic pitfalls of the linear algebra and FFT families.

Each test runs the rewrite through the engine on inputs that expose one difference between
NumPy and the obvious TensorFlow call, checks the rewrite against NumPy, and checks that the
obvious ("naive") TF mapping gives a different answer on the same inputs, so that simplifying
a pattern to the naive mapping makes the test fail.
"""
import numpy as np
import pytest

from rewrite_and_run import rewrite_and_run
from rewriter.function import Refusal


def _rewrite(tf, expr, **arrays):
    """The rewritten function's text and its result on `arrays` (as tf constants)."""
    out, _, text = rewrite_and_run(tf, expr, **arrays)
    assert "np." not in text.split("def f", 1)[1], f"not rewritten:\n{text}"
    return text, out


def _numpy(expr, **arrays):
    return eval(expr, {"np": np}, dict(arrays))


def _same(have, want, rtol=1e-12, atol=1e-12):
    have, want = np.asarray(have), np.asarray(want)
    return have.dtype == want.dtype and have.shape == want.shape and np.allclose(have, want, rtol=rtol, atol=atol)


def _differs(naive, want, rtol=1e-12, atol=1e-12):
    return not _same(naive, want, rtol, atol)


RNG = np.random.default_rng(7)


def test_trace_uses_first_two_axes(tf):
    # np.trace sums over axes (0, 1); tf.linalg.trace over the last two.
    a = RNG.standard_normal((3, 3, 3))
    text, got = _rewrite(tf, "np.trace(a)", a=a)
    want = _numpy("np.trace(a)", a=a)
    assert _same(got, want), text
    naive = tf.linalg.trace(tf.constant(a)).numpy()
    assert naive.shape == want.shape and _differs(naive, want)


def test_trace_with_offset_and_axes(tf):
    a = RNG.integers(-5, 5, (2, 3, 4)).astype(np.int8)
    expr = "np.trace(a, 1, axis1=2, axis2=1)"
    text, got = _rewrite(tf, expr, a=a)
    want = _numpy(expr, a=a)
    assert want.dtype == np.int64 and _same(got, want), text
    naive = tf.linalg.trace(tf.cast(a, tf.int64)).numpy()  # last two axes, no offset
    assert _differs(naive, want)


def test_linalg_trace_uses_last_two_axes(tf):
    a = RNG.standard_normal((3, 3, 3))
    text, got = _rewrite(tf, "np.linalg.trace(a)", a=a)
    assert _same(got, np.linalg.trace(a)), text
    assert _differs(np.trace(a), np.linalg.trace(a))  # the two NumPy functions differ here


def test_fft_of_float64_real_input_keeps_complex128(tf):
    # tf.signal.fft takes complex input only; a cast to complex64 loses float64 precision.
    a = 1.0 + 1e-9 * RNG.standard_normal(64)
    text, got = _rewrite(tf, "np.fft.fft(a)", a=a)
    want = np.fft.fft(a)
    assert want.dtype == np.complex128 and _same(got, want, rtol=1e-9, atol=1e-9), text
    with pytest.raises(Exception):
        tf.signal.fft(tf.constant(a))
    naive = tf.signal.fft(tf.cast(tf.constant(a), tf.complex64)).numpy()
    assert _differs(naive, want, rtol=1e-9, atol=1e-9)


def test_rfft_pads_to_n(tf):
    a = RNG.standard_normal(10)
    text, got = _rewrite(tf, "np.fft.rfft(a, n=16)", a=a)
    want = np.fft.rfft(a, n=16)
    assert _same(got, want, 1e-10, 1e-10), text
    naive = tf.signal.rfft(tf.constant(a)).numpy()  # n dropped
    assert naive.shape != want.shape


def test_fft_crops_to_n(tf):
    a = RNG.standard_normal((3, 10))
    text, got = _rewrite(tf, "np.fft.fft(a, 4)", a=a)
    assert _same(got, np.fft.fft(a, 4), 1e-10, 1e-10), text


def test_fft_along_axis_0(tf):
    a = RNG.standard_normal((4, 4))
    text, got = _rewrite(tf, "np.fft.fft(a, axis=0)", a=a)
    want = np.fft.fft(a, axis=0)
    assert _same(got, want, 1e-10, 1e-10), text
    naive = tf.signal.fft(tf.cast(a, tf.complex128)).numpy()  # transforms the last axis
    assert naive.shape == want.shape and _differs(naive, want, 1e-10, 1e-10)


@pytest.mark.parametrize("norm", ["ortho", "forward"])
def test_fft_norm(tf, norm):
    a = RNG.standard_normal((2, 9))
    expr = f"np.fft.fft(a, norm={norm!r})"
    text, got = _rewrite(tf, expr, a=a)
    want = _numpy(expr, a=a)
    assert _same(got, want, 1e-10, 1e-10), text
    naive = tf.signal.fft(tf.cast(a, tf.complex128)).numpy()  # TF's fft is unnormalized
    assert _differs(naive, want, 1e-10, 1e-10)


def test_ifft_norm_ortho_and_irfft_default_length(tf):
    a = RNG.standard_normal(9) + 1j * RNG.standard_normal(9)
    text, got = _rewrite(tf, "np.fft.ifft(a, norm='ortho')", a=a)
    want = np.fft.ifft(a, norm="ortho")
    assert _same(got, want, 1e-10, 1e-10), text
    assert _differs(tf.signal.ifft(tf.constant(a)).numpy(), want, 1e-10, 1e-10)
    text, got = _rewrite(tf, "np.fft.irfft(a)", a=a)
    assert np.asarray(got).shape == (16,) and _same(got, np.fft.irfft(a), 1e-10, 1e-10), text


def test_fft_of_float16_rounds_norm_factor_in_float16(tf):
    # NumPy computes ifft's 1/n in float16 for float16 input: a 2.4e-4 relative difference,
    # far above complex64's precision.
    a = RNG.standard_normal(5).astype(np.float16)
    text, got = _rewrite(tf, "np.fft.ifft(a)", a=a)
    want = np.fft.ifft(a)
    assert _same(got, want, 2e-6, 2e-6), text
    naive = tf.signal.ifft(tf.cast(a, tf.complex64)).numpy()
    assert _differs(naive, want, 2e-5, 2e-5)


def test_norm_ord_1_of_matrix_is_max_column_sum(tf):
    a = np.array([[1.0, -7.0], [-2.0, 3.0], [4.0, 0.5]])
    for expr in ("np.linalg.norm(a, 1)", "np.linalg.norm(a, np.inf)", "np.linalg.norm(a)",
                 "np.linalg.norm(a, 'nuc')", "np.linalg.norm(a, -1, axis=(1, 0), keepdims=True)"):
        text, got = _rewrite(tf, expr, a=a)
        assert _same(got, _numpy(expr, a=a), 1e-10, 1e-10), text
    want = np.linalg.norm(a, 1)
    assert want == 10.5
    naive = tf.norm(tf.constant(a), ord=1).numpy()  # TF: the 1-norm of the flattened matrix
    assert _differs(naive, want)
    assert _differs(np.linalg.norm(a), want)  # Frobenius is something else again


def test_norm_inf_of_empty_vector_is_zero(tf):
    a = np.zeros((0,))
    text, got = _rewrite(tf, "np.linalg.norm(a, np.inf)", a=a)
    assert _same(got, np.linalg.norm(a, np.inf)), text
    assert tf.reduce_max(tf.abs(tf.constant(a))).numpy() == -np.inf


def test_matmul_of_1d_operands(tf):
    m = RNG.standard_normal((3, 3))
    v = RNG.standard_normal(3)
    for expr in ("np.matmul(v, m)", "np.matmul(m, v)", "np.matmul(v, v)", "v @ m"):
        text, got = _rewrite(tf, expr, v=v, m=m)
        assert _same(got, _numpy(expr, v=v, m=m), 1e-10, 1e-10), text
    with pytest.raises(Exception):
        tf.linalg.matmul(tf.constant(v), tf.constant(m))


def test_int8_products_wrap_like_numpy(tf):
    # TF has no int8 matmul kernel; NumPy's int8 products wrap around.
    a = np.full((4, 4), 100, dtype=np.int8)
    for expr in ("np.matmul(a, a)", "np.dot(a, a)", "np.einsum('ij,jk', a, a)", "np.tensordot(a, a, 1)"):
        text, got = _rewrite(tf, expr, a=a)
        want = _numpy(expr, a=a)
        assert want.dtype == np.int8 and _same(got, want), text
    with pytest.raises(Exception):
        tf.linalg.matmul(tf.constant(a), tf.constant(a))


def test_einsum_float16_broadcast(tf):
    # tf.einsum (TF 2.21) gets float16 wrong when `...` broadcasts; the rewrite runs it in float32.
    a = RNG.standard_normal((3, 4)).astype(np.float16)
    b = RNG.standard_normal(4).astype(np.float16)
    expr = "np.einsum('...i,...i', a, b)"
    text, got = _rewrite(tf, expr, a=a, b=b)
    want = _numpy(expr, a=a, b=b)
    assert _same(got, want, 2e-3, 2e-3), text
    naive = tf.einsum("...i,...i->...", tf.constant(a), tf.constant(b)).numpy()
    assert _differs(naive, want, 2e-3, 2e-3)


def test_svd_full_matrices_default_and_signs(tf):
    a = np.random.default_rng(0).standard_normal((4, 3))
    # NumPy's default full_matrices=True gives a (4, 4) u; TF's default gives (4, 3), and its
    # singular vectors' signs differ from LAPACK's: compute_uv=True is refused.
    with pytest.raises(Refusal):
        _rewrite(tf, "np.linalg.svd(a)", a=a)
    u = np.linalg.svd(a)[0]
    s, tu, _ = tf.linalg.svd(tf.constant(a))
    assert u.shape == (4, 4) and tuple(tu.shape) == (4, 3)
    u_reduced = np.linalg.svd(a, full_matrices=False)[0]
    assert _differs(tu.numpy(), u_reduced, 1e-8, 1e-8)  # same shape, other signs
    text, got = _rewrite(tf, "np.linalg.svd(a, compute_uv=False)", a=a)
    assert _same(got, np.linalg.svd(a, compute_uv=False), 1e-10, 1e-10), text


def test_solve_with_1d_b_and_numpy2_stack_rule(tf):
    a = RNG.standard_normal((3, 3, 3)) + 3 * np.eye(3)
    b = RNG.standard_normal(3)
    text, got = _rewrite(tf, "np.linalg.solve(a, b)", a=a, b=b)
    want = np.linalg.solve(a, b)
    assert want.shape == (3, 3) and _same(got, want, 1e-10, 1e-10), text
    with pytest.raises(Exception):
        tf.linalg.solve(tf.constant(a), tf.constant(b))
    # NumPy 2: a 2-D b is a matrix (broadcast over a's batch), not a stack of vectors.
    b2 = RNG.standard_normal((3, 3))
    text, got = _rewrite(tf, "np.linalg.solve(a, b)", a=a, b=b2)
    want = np.linalg.solve(a, b2)
    assert want.shape == (3, 3, 3) and _same(got, want, 1e-10, 1e-10), text
    stack_of_vectors = tf.linalg.solve(tf.constant(a), tf.constant(b2)[..., tf.newaxis])[..., 0].numpy()
    assert _differs(stack_of_vectors, want)


def test_slogdet_returns_sign_then_logabsdet(tf):
    a = np.array([[0.0, 2.0], [3.0, 1.0]])  # det = -6
    source_expr = "np.linalg.slogdet(a)"
    text, got = _rewrite(tf, source_expr, a=a)
    sign, logabsdet = np.linalg.slogdet(a)
    assert len(got) == 2, text
    assert float(got[0]) == sign == -1.0 and np.isclose(float(got[1]), logabsdet), text
    naive = tf.linalg.logdet(tf.constant(a)).numpy()  # Cholesky-based: only for SPD matrices
    assert not np.isclose(naive, logabsdet)


def test_pinv_default_cutoff(tf):
    # NumPy's default rcond is 1e-15; TF's is 10 * max(M, N) * eps (6.7e-15 here).
    a = np.diag([1.0, 3e-15, 2.0])
    text, got = _rewrite(tf, "np.linalg.pinv(a)", a=a)
    want = np.linalg.pinv(a)
    assert _same(got, want, 1e-10, 0), text
    naive = tf.linalg.pinv(tf.constant(a)).numpy()
    assert naive[1, 1] == 0 and want[1, 1] > 1e14


def test_cross_broadcasts(tf):
    a = RNG.standard_normal((2, 3))
    b = RNG.standard_normal(3)
    text, got = _rewrite(tf, "np.cross(a, b)", a=a, b=b)
    assert _same(got, np.cross(a, b), 1e-12, 1e-12), text
    with pytest.raises(Exception):
        tf.linalg.cross(tf.constant(a), tf.constant(b))


def test_diagonal_offset_beyond_matrix(tf):
    a = np.zeros((0, 4))
    text, got = _rewrite(tf, "np.linalg.diagonal(a, offset=-1)", a=a)
    assert _same(got, np.linalg.diagonal(a, offset=-1)), text
    with pytest.raises(Exception):
        tf.linalg.diag_part(tf.constant(a), k=-1)
