"""Linear algebra: products and `numpy.linalg`.

`matmul` of 1-D operands is a dot product or matrix-vector product in NumPy, which `tf.matmul`
rejects: those ranks get `tf.tensordot` / `tf.linalg.matvec`. TF has no matmul/einsum kernels
for int8, int16 and uint8: those products run in int32 and are cast back, which wraps modulo
2**8 / 2**16 exactly as NumPy's own arithmetic does. `np.trace` sums over the *first* two axes
(`tf.linalg.trace` the last two); `np.linalg.trace`/`diagonal` use the last two like TF.
Decompositions whose vectors are unique only up to sign (svd's u/vh, eigh's eigenvectors) are
refused: LAPACK and TF pick different signs.
"""
import re

import numpy as np

from rewriter import facts as F
from rewriter.facts import Kind, tf_name
from rewriter.pattern import COMPLEX, FLOATS, INTS, Batch, Cast, Domain, Pattern, Values

FAMILY_CODE = "NPL"

_WIDEN = ("int8", "int16", "uint8")  # no matmul/einsum kernels in TF


# -- helpers ----------------------------------------------------------------------------

def _kernel(dtype) -> np.dtype:
    """The dtype TF multiplies in: int32 for the narrow ints, float32 for float16 (NumPy's
    float16 dot products accumulate in float32 and round once; tf.einsum is moreover wrong
    in float16 when it broadcasts `...`, TF 2.21), else NumPy's result dtype."""
    dtype = np.dtype(dtype)
    if dtype.name == "float16":
        return np.dtype("float32")
    return np.dtype("int32") if dtype.name in _WIDEN else dtype


def _value(fact):
    """A fact's constant value, nested tuples and lists included (None when unknown)."""
    if fact.kind is Kind.TUPLE:
        items = [_value(i) for i in fact.items]
        return None if any(i is None for i in items) else tuple(items)
    return fact.value if fact.known else None


def _back(call, text, kernel) -> str:
    """Cast a product computed in `kernel` back to NumPy's result dtype."""
    dtype = call.result.dtype
    return text if np.dtype(kernel) == dtype else f"tf.cast({text}, {tf_name(dtype)})"


_CHEAP = re.compile(r"[A-Za-z_][\w.]*|tf\.cast\([A-Za-z_][\w.]*, tf\.\w+\)")


def _cheap(text: str) -> bool:
    """Whether an argument's text may appear twice in the output (a name, or a cast of one)."""
    return _CHEAP.fullmatch(text.strip()) is not None


def _need_cheap(call, *names):
    for name in names:
        if not _cheap(call.text(name)):
            call.refuse(f"`{name}` is needed twice (for its shape); assign it to a name first")


def _rank(call, name) -> int:
    fact = call.fact(name)
    if fact.kind is Kind.SCALAR:
        return 0
    if fact.kind is not Kind.ARRAY or fact.rank is None:
        call.refuse(f"the rank of `{name}` is unknown")
    return fact.rank


def _axis(call, value, rank) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        call.refuse("axes must be constant integers")
    if not -rank <= value < rank:
        call.refuse(f"axis {value} is out of bounds")
    return value % rank


def _mm(a, ra, b, rb) -> tuple:
    """NumPy's matmul of two operand texts by rank: (text, rank of the result)."""
    if ra >= 2 and rb >= 2:
        return f"tf.linalg.matmul({a}, {b})", max(ra, rb)
    if ra == 1 and rb == 1:
        return f"tf.tensordot({a}, {b}, 1)", 0
    if rb == 1:
        return f"tf.linalg.matvec({a}, {b})", ra - 1
    return f"tf.linalg.matvec({b}, {a}, transpose_a=True)", rb - 1


def _product(x, y):
    def lower(call):
        """tf.linalg.matmul, or tensordot/matvec for 1-D operands (NumPy's matmul rules)."""
        ra, rb = _rank(call, x), _rank(call, y)
        if 0 in (ra, rb):
            call.refuse("matmul of a 0-d operand is an error in NumPy")
        kernel = _kernel(call.result.dtype)
        text, _ = _mm(call.cast(x, kernel), ra, call.cast(y, kernel), rb)
        return _back(call, text, kernel)

    return lower


def _dot(call):
    """np.dot: a scalar operand multiplies; otherwise the last axis of `a` meets the
    second-to-last of `b` (the only axis of a 1-D `b`)."""
    ra, rb = _rank(call, "a"), _rank(call, "b")
    if 0 in (ra, rb):
        return f"tf.multiply({call.tensor('a')}, {call.tensor('b')})"
    kernel = _kernel(call.result.dtype)
    a, b = call.cast("a", kernel), call.cast("b", kernel)
    if ra <= 2 and rb <= 2:
        return _back(call, _mm(a, ra, b, rb)[0], kernel)
    axis_b = rb - 2 if rb >= 2 else 0
    return _back(call, f"tf.tensordot({a}, {b}, [[{ra - 1}], [{axis_b}]])", kernel)


def _vdot(call):
    """Both operands flattened; the first conjugated (complex only)."""
    kernel = _kernel(call.result.dtype)
    a = f"tf.reshape({call.cast('a', kernel)}, [-1])"
    if call.result.dtype.kind == "c":
        a = f"tf.math.conj({a})"
    return _back(call, f"tf.tensordot({a}, tf.reshape({call.cast('b', kernel)}, [-1]), 1)", kernel)


def _inner(call):
    """Sum over the last axes of both operands (a product for a 0-d operand)."""
    ra, rb = _rank(call, "a"), _rank(call, "b")
    if 0 in (ra, rb):
        return f"tf.multiply({call.tensor('a')}, {call.tensor('b')})"
    kernel = _kernel(call.result.dtype)
    text = f"tf.tensordot({call.cast('a', kernel)}, {call.cast('b', kernel)}, [[{ra - 1}], [{rb - 1}]])"
    return _back(call, text, kernel)


def _outer(x, y, flatten=True):
    def lower(call):
        """A broadcast product of a column and a row (exact, any dtype)."""
        a, b = call.tensor(x), call.tensor(y)
        if flatten:
            return f"tf.reshape({a}, [-1, 1]) * tf.reshape({b}, [-1])"
        if _rank(call, x) != 1 or _rank(call, y) != 1:
            call.refuse("np.linalg.outer takes 1-D operands only")
        return f"{a}[:, tf.newaxis] * {b}"

    return lower


def _tensordot(x, y):
    def lower(call):
        """tf.tensordot with NumPy's `axes` (an int, or a pair of axis lists) made explicit."""
        ra, rb = _rank(call, x), _rank(call, y)
        axes = _value(call.fact("axes")) if call.given("axes") else 2
        if axes is None:
            call.refuse("axes must be a constant")
        kernel = _kernel(call.result.dtype)
        a, b = call.cast(x, kernel), call.cast(y, kernel)
        if isinstance(axes, int) and not isinstance(axes, bool):
            if not 0 <= axes <= min(ra, rb):
                call.refuse("axes out of range")
            return _back(call, f"tf.tensordot({a}, {b}, {axes})", kernel)
        if not (isinstance(axes, tuple) and len(axes) == 2):
            call.refuse("axes must be an int or a pair of axis lists")
        lists = [list(v) if isinstance(v, tuple) else [v] for v in axes]
        if len(lists[0]) != len(lists[1]):
            call.refuse("the two axis lists differ in length")
        pa = [_axis(call, v, ra) for v in lists[0]]
        pb = [_axis(call, v, rb) for v in lists[1]]
        return _back(call, f"tf.tensordot({a}, {b}, [{pa}, {pb}])", kernel)

    return lower


def _einsum_subscripts(call, spec: str, count: int) -> str:
    """NumPy's subscripts with the output made explicit (implicit mode: the labels used once,
    in ASCII order, after the broadcast dimensions)."""
    spec = spec.replace(" ", "")
    if "->" in spec:
        inputs, output = spec.split("->")
    else:
        inputs, output = spec, None
    terms = inputs.split(",")
    if len(terms) != count:
        call.refuse("the subscripts do not match the number of operands")
    labels = "".join(t.replace("...", "") for t in terms)
    if not all(c.isalpha() for c in labels) or (output is not None and not all(
            c.isalpha() for c in output.replace("...", ""))):
        call.refuse("unusual einsum subscripts")
    if output is None:
        once = sorted(c for c in set(labels) if labels.count(c) == 1)
        output = ("..." if "..." in inputs else "") + "".join(once)
    return f"{','.join(terms)}->{output}"


def _einsum(call):
    """tf.einsum over operands in NumPy's result dtype (narrow ints in int32, cast back)."""
    spec = call.const("subscripts")
    if not isinstance(spec, str):
        call.refuse("only string subscripts are rewritten")
    operands = call.args["operands"].items or []
    if not operands:
        call.refuse("no operands")
    if call.result.kind is not Kind.ARRAY or call.result.dtype.kind == "b":
        call.refuse("boolean einsum is not rewritten")
    kernel = _kernel(call.result.dtype)
    texts = []
    for item in operands:
        if item.fact.kind is Kind.SCALAR and not item.fact.tensor:
            texts.append(f"tf.constant({item.text}, {tf_name(kernel)})")
        else:
            texts.append(call.lowering.cast(item, kernel).text)
    subscripts = _einsum_subscripts(call, spec, len(texts))
    return _back(call, f"tf.einsum({subscripts!r}, {', '.join(texts)})", kernel)


def _kron(call):
    """A broadcast product with interleaved axes (a_i, b_i), reshaped so that axis i has
    length a_i * b_i; the lower-rank operand is aligned with the last axes of the other."""
    ra, rb = _rank(call, "a"), _rank(call, "b")
    a, b = call.tensor("a"), call.tensor("b")
    if 0 in (ra, rb):
        return f"tf.multiply({a}, {b})"
    r = max(ra, rb)
    if r > 2:
        call.refuse("kron above rank 2 needs a broadcast of rank > 5, which TF does not have")
    if r > 1:
        _need_cheap(call, "a", "b")
    a_index = ", ".join(["tf.newaxis, tf.newaxis"] * (r - ra) + [":, tf.newaxis"] * ra)
    b_index = ", ".join(["tf.newaxis, tf.newaxis"] * (r - rb) + ["tf.newaxis, :"] * rb)
    product = f"{a}[{a_index}] * {b}[{b_index}]"
    if r == 1:
        return f"tf.reshape({product}, [-1])"
    sizes = []
    for i in range(r - 1):
        parts = [f"tf.shape({call.text(n)})[{i - (r - rank)}]" for n, rank in (("a", ra), ("b", rb))
                 if i - (r - rank) >= 0]
        sizes.append(" * ".join(parts))
    return f"tf.reshape({product}, [{', '.join(sizes)}, -1])"


def _moved(call, x, rank, first, second) -> str:
    """`x` with axes `first`, `second` moved to the end (in that order)."""
    if (first, second) == (rank - 2, rank - 1):
        return x
    perm = [i for i in range(rank) if i not in (first, second)] + [first, second]
    return f"tf.transpose({x}, {perm})"


def _trace(call):
    """Sum of a diagonal over axes (axis1, axis2) = the FIRST two axes by default (np.trace);
    tf.linalg.trace works on the last two, so the axes are moved there first."""
    rank = _rank(call, "a")
    if rank < 2:
        call.refuse("trace needs at least two axes")
    first = _axis(call, call.const("axis1", 0), rank)
    second = _axis(call, call.const("axis2", 1), rank)
    if first == second:
        call.refuse("axis1 and axis2 are the same")
    x = _moved(call, call.text("a"), rank, first, second)
    offset = _offset(call, "offset")
    if offset == 0:
        return f"tf.linalg.trace({x})"
    return f"tf.reduce_sum(tf.linalg.diag_part({_offset_slice(x, offset)}), axis=-1)"


def _offset(call, name) -> int:
    offset = call.const(name, 0)
    if isinstance(offset, bool) or not isinstance(offset, int):
        call.refuse("offset must be a constant integer")
    return offset


def _offset_slice(x, offset) -> str:
    """The matrix whose main diagonal is `x`'s diagonal `offset` (a slice, so that offsets
    beyond the matrix give an empty diagonal as in NumPy; TF's k= raises there)."""
    return f"{x}[..., {offset}:]" if offset > 0 else f"{x}[..., {-offset}:, :]"


def _linalg_trace(call):
    """np.linalg.trace: the last two axes, as tf.linalg.trace."""
    if _rank(call, "x") < 2:
        call.refuse("trace needs at least two axes")
    offset = _offset(call, "offset")
    if offset == 0:
        return f"tf.linalg.trace({call.text('x')})"
    return f"tf.reduce_sum(tf.linalg.diag_part({_offset_slice(call.text('x'), offset)}), axis=-1)"


def _diagonal(call):
    """tf.linalg.diag_part; NumPy's offset is TF's k."""
    if _rank(call, "x") < 2:
        call.refuse("diagonal needs at least two axes")
    offset = _offset(call, "offset")
    x = call.text("x")
    return f"tf.linalg.diag_part({_offset_slice(x, offset) if offset else x})"


# -- norms ------------------------------------------------------------------------------

_INF = float("inf")


def _norm_input(call, name):
    """The input in NumPy's working dtype: ints become float64; complex stays complex."""
    fact = call.fact(name)
    if fact.dtype is not None and fact.dtype.kind == "c":
        return call.text(name), True
    return call.cast(name, call.result.dtype), False


def _vector_norm_text(call, x, is_complex, ord, axis, keepdims) -> str:
    """A vector norm as TF reductions over `axis` (None: all axes)."""
    kw = (f", axis={axis}" if axis is not None else "") + (", keepdims=True" if keepdims else "")
    absx = f"tf.abs({x})"
    if ord is None or ord == 2:
        sq = f"tf.square({absx})" if is_complex else f"tf.square({x})"
        return f"tf.sqrt(tf.reduce_sum({sq}{kw}))"
    if ord == _INF:
        # NumPy's max(initial=0): an empty vector has norm 0, not -inf.
        return f"tf.maximum(tf.reduce_max({absx}{kw}), 0)"
    if ord == -_INF:
        return f"tf.reduce_min({absx}{kw})"
    if ord == 0:
        return f"tf.reduce_sum(tf.cast(tf.not_equal({x}, 0), {tf_name(call.result.dtype)}){kw})"
    if ord == 1:
        return f"tf.reduce_sum({absx}{kw})"
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
        call.refuse(f"ord={ord!r} is not a vector norm")
    dtype = call.result.dtype
    inverse = float(np.reciprocal(np.asarray(ord, dtype=dtype)))  # NumPy's reciprocal in the result dtype
    return f"tf.pow(tf.reduce_sum(tf.pow({absx}, {float(ord)!r}){kw}), {inverse!r})"


def _matrix_norm_text(call, x, is_complex, ord, rank, row, col, keepdims) -> str:
    """A matrix norm over axes (row, col) with NumPy's meaning of each `ord`."""
    absx = f"tf.abs({x})"
    if ord in (None, "fro", "f"):
        sq = f"tf.square({absx})" if is_complex else f"tf.square({x})"
        keep = ", keepdims=True" if keepdims else ""
        return f"tf.sqrt(tf.reduce_sum({sq}, axis={[row, col]}{keep}))"
    if ord in (1, -1, _INF, -_INF):
        # 1: max over columns of the column sums (sum over rows); inf: max of the row sums.
        inner, outer = (row, col) if ord in (1, -1) else (col, row)
        pick = "tf.reduce_max" if ord in (1, _INF) else "tf.reduce_min"
        if keepdims:
            text = f"{pick}(tf.reduce_sum({absx}, axis={inner}, keepdims=True), axis={outer}, keepdims=True)"
        else:
            text = f"{pick}(tf.reduce_sum({absx}, axis={inner}), axis={outer - (outer > inner)})"
        return f"tf.maximum({text}, 0)" if pick == "tf.reduce_max" else text
    if ord in (2, -2, "nuc"):
        moved = _moved(call, x, rank, row, col)
        s = f"tf.linalg.svd({moved}, compute_uv=False)"
        text = {2: f"tf.maximum(tf.reduce_max({s}, axis=-1), 0)", -2: f"tf.reduce_min({s}, axis=-1)",
                "nuc": f"tf.reduce_sum({s}, axis=-1)"}[ord]
        if keepdims:
            for axis in sorted((row, col)):
                text = f"tf.expand_dims({text}, {axis})"
        return text
    call.refuse(f"ord={ord!r} is not a matrix norm")


def _const_keepdims(call, name="keepdims"):
    keep = call.const(name, False)
    if not isinstance(keep, bool):
        call.refuse("keepdims must be a constant bool")
    return keep


def _norm(call):
    """np.linalg.norm with NumPy's meaning of every ord, for vectors (one axis, or a 1-D input)
    and matrices (two axes, or a 2-D input)."""
    rank = _rank(call, "x")
    ord = call.const("ord", None)
    axis = call.const("axis", None)
    keepdims = _const_keepdims(call)
    x, is_complex = _norm_input(call, "x")
    if axis is None:
        if ord is None or (ord in ("f", "fro") and rank == 2) or (ord == 2 and rank == 1):
            return _vector_norm_text(call, x, is_complex, None, None, keepdims)
        if rank == 1:
            return _vector_norm_text(call, x, is_complex, ord, 0, keepdims)
        if rank == 2:
            return _matrix_norm_text(call, x, is_complex, ord, 2, 0, 1, keepdims)
        call.refuse("NumPy needs a 1-D or 2-D input for this ord")
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(_axis(call, a, rank) for a in axes)
    if len(axes) == 1:
        return _vector_norm_text(call, x, is_complex, ord, axes[0], keepdims)
    if len(axes) == 2 and axes[0] != axes[1]:
        return _matrix_norm_text(call, x, is_complex, ord, rank, axes[0], axes[1], keepdims)
    call.refuse("axis must be one axis or two distinct axes")


def _vector_norm(call):
    """np.linalg.vector_norm: reductions over `axis` (all axes when None), any number of axes."""
    rank = _rank(call, "x")
    ord = call.const("ord", 2)
    axis = call.const("axis", None)
    keepdims = _const_keepdims(call)
    x, is_complex = _norm_input(call, "x")
    if axis is not None:
        axes = axis if isinstance(axis, tuple) else (axis,)
        axes = sorted({_axis(call, a, rank) for a in axes})
        axis = axes[0] if len(axes) == 1 else axes
    if isinstance(ord, str):
        call.refuse(f"ord={ord!r} is not a vector norm")
    return _vector_norm_text(call, x, is_complex, ord, axis, keepdims)


def _matrix_norm(call):
    """np.linalg.matrix_norm: np.linalg.norm over the last two axes."""
    rank = _rank(call, "x")
    if rank < 2:
        call.refuse("matrix_norm needs at least two axes")
    x, is_complex = _norm_input(call, "x")
    return _matrix_norm_text(call, x, is_complex, call.const("ord", "fro"), rank, rank - 2, rank - 1,
                             _const_keepdims(call))


# -- solvers and decompositions ------------------------------------------------------------

def _solve(call):
    """NumPy 2 reads `b` as one vector only when b.ndim == 1, otherwise as a stack of (M, K)
    matrices; batch axes broadcast. tf.linalg.solve does not broadcast: without batch axes
    it is used directly, else through LinearOperatorFullMatrix, whose solve broadcasts."""
    ra, rb = _rank(call, "a"), _rank(call, "b")
    a, b = call.text("a"), call.text("b")
    if ra == 2 and rb == 1:
        return f"tf.linalg.solve({a}, {b}[:, tf.newaxis])[:, 0]"
    if ra == 2 and rb == 2:
        return f"tf.linalg.solve({a}, {b})"
    method = "solvevec" if rb == 1 else "solve"
    return f"tf.linalg.LinearOperatorFullMatrix({a}).{method}({b})"


def _cholesky(call):
    """Lower factor by default; upper=True reads the upper triangle (the lower one of a^H)."""
    upper = call.const("upper", False)
    if upper:
        return f"tf.linalg.adjoint(tf.linalg.cholesky(tf.linalg.adjoint({call.text('a')})))"
    return f"tf.linalg.cholesky({call.text('a')})"


def _qr(call):
    """tf.linalg.qr (Householder like LAPACK, same signs): 'reduced', 'complete' or 'r'."""
    mode = call.const("mode", "reduced")
    a = call.text("a")
    if mode == "reduced":
        return f"tf.linalg.qr({a})"
    if mode == "complete":
        return f"tf.linalg.qr({a}, full_matrices=True)"
    if mode == "r":
        return f"tf.linalg.qr({a})[1]"
    call.refuse(f"mode={mode!r} is not rewritten")


def _svd(call):
    """Singular values only: u and vh are unique only up to sign, and LAPACK and TF choose
    different signs, so compute_uv=True (NumPy's default) is refused."""
    if call.const("compute_uv", True):
        call.refuse("singular vectors differ in sign between LAPACK and TF; only compute_uv=False is rewritten")
    a = call.text("a")
    if call.const("hermitian", False):
        return f"tf.sort(tf.abs(tf.linalg.eigvalsh({a})), axis=-1, direction='DESCENDING')"
    return f"tf.linalg.svd({a}, compute_uv=False)"


def _svdvals(call):
    """Singular values in descending order, as NumPy."""
    return f"tf.linalg.svd({call.text('x')}, compute_uv=False)"


def _eigvalsh(call):
    """Ascending eigenvalues; UPLO='U' reads the upper triangle (the lower one of a^H)."""
    uplo = call.const("UPLO", "L")
    a = call.text("a")
    if uplo == "L":
        return f"tf.linalg.eigvalsh({a})"
    if uplo == "U":
        return f"tf.linalg.eigvalsh(tf.linalg.adjoint({a}))"
    call.refuse("UPLO must be 'L' or 'U'")


def _pinv(call):
    """tf.linalg.pinv with NumPy's cutoff: rcond defaults to 1e-15 (TF's default is
    10 * max(M, N) * eps), rtol=None means max(M, N) * eps."""
    if call.const("hermitian", False):
        call.refuse("hermitian=True reads only one triangle; not rewritten")
    a = call.text("a")
    rtol_given = call.given("rtol")
    rcond = call.const("rcond", None)
    if rtol_given:
        if rcond is not None:
            call.refuse("rcond and rtol both given")
        rtol = call.const("rtol")
        if rtol is None:
            return _pinv_rtol_none(call, a)
        rcond = rtol
    if rcond is None:
        rcond = 1e-15
    if isinstance(rcond, bool) or not isinstance(rcond, (int, float)):
        call.refuse("rcond must be a constant number")
    return f"tf.linalg.pinv({a}, rcond={float(rcond)!r})"


def _pinv_rtol_none(call, a):
    _need_cheap(call, "a")
    eps = float(np.finfo(call.result.dtype).eps)
    dtype = tf_name(call.result.dtype)
    return (f"tf.linalg.pinv({a}, rcond=tf.cast(tf.reduce_max(tf.shape({a})[-2:]), {dtype}) * {eps!r})")


def _matrix_rank(call):
    """tf.linalg.matrix_rank: its default tolerance is NumPy's, S.max() * max(M, N) * eps."""
    if _rank(call, "A") < 2:
        call.refuse("the rank of a 0-d or 1-d input is a Python int")
    if call.const("hermitian", False):
        call.refuse("hermitian=True is not rewritten")
    if call.given("rtol") and call.const("rtol") is not None:
        call.refuse("rtol= is not rewritten")
    tol = call.const("tol", None)
    a = call.cast("A", np.float64) if call.fact("A").dtype.kind in "iub" else call.text("A")
    if tol is None:
        return f"tf.cast(tf.linalg.matrix_rank({a}), tf.int64)"
    if isinstance(tol, bool) or not isinstance(tol, (int, float)):
        call.refuse("tol must be a constant number")
    return f"tf.math.count_nonzero(tf.linalg.svd({a}, compute_uv=False) > {float(tol)!r}, axis=-1)"


def _matrix_power(call):
    """A chain of matmuls (n up to 8); n = 0 is the identity, n < 0 powers the inverse."""
    n = call.const("n")
    if isinstance(n, bool) or not isinstance(n, int):
        call.refuse("n must be a constant integer")
    if abs(n) > 8:
        call.refuse("powers above 8 are not unrolled")
    rank = _rank(call, "a")
    if rank < 2:
        call.refuse("matrix_power needs at least two axes")
    dtype = call.result.dtype
    if n == 0:
        _need_cheap(call, "a")
        a = call.text("a")
        return (f"tf.eye(tf.shape({a})[-1], batch_shape=tf.shape({a})[:-2], dtype={tf_name(dtype)})")
    if n < 0:
        base = f"tf.linalg.inv({call.cast('a', dtype)})"
        if -n > 1:
            call.refuse("negative powers other than -1 are not rewritten")
        return base
    kernel = _kernel(dtype)
    a = call.cast("a", kernel)
    if n == 1:
        return _back(call, f"tf.identity({a})", kernel)
    _need_cheap(call, "a")
    text = a
    for _ in range(n - 1):
        text = f"tf.linalg.matmul({text}, {a})"
    return _back(call, text, kernel)


def _multi_dot(call):
    """Matmuls left to right, with NumPy's 1-D first/last operands (row/column vectors)."""
    items = call.args["arrays"].items
    if not items or len(items) < 2:
        call.refuse("multi_dot needs a literal list of at least two arrays")
    kernel = _kernel(call.result.dtype)
    ranks = []
    for item in items:
        if item.fact.kind is not Kind.ARRAY or item.fact.rank is None:
            call.refuse("every operand must be an array of known rank")
        ranks.append(item.fact.rank)
    if any(r != 2 for r in ranks[1:-1]) or ranks[0] not in (1, 2) or ranks[-1] not in (1, 2):
        call.refuse("multi_dot needs 2-D operands (1-D allowed first and last)")
    texts = [call.lowering.cast(i, kernel).text for i in items]
    text, rank = texts[0], ranks[0]
    for t, r in zip(texts[1:], ranks[1:]):
        text, rank = _mm(text, rank, t, r)
    return _back(call, text, kernel)



def _cross(x, y, numpy_axes):
    def lower(call):
        """Cross product of 3-vectors on the last axis, component by component: it broadcasts
        like NumPy (tf.linalg.cross does not), and each component is the one difference of two
        products NumPy computes (an einsum with the Levi-Civita symbol would also multiply
        by its zeros, turning an inf anywhere into NaN everywhere)."""
        if numpy_axes:
            for name in ("axisa", "axisb", "axisc"):
                if call.const(name, -1) != -1:
                    call.refuse(f"{name}= is not rewritten")
            if call.const("axis", None) not in (None, -1):
                call.refuse("axis= is not rewritten")
        elif call.const("axis", -1) != -1:
            call.refuse("axis= is not rewritten")
        if _rank(call, x) < 1 or _rank(call, y) < 1:
            call.refuse("cross needs vectors")
        kernel = _kernel(call.result.dtype)
        a, b = call.cast(x, kernel), call.cast(y, kernel)
        components = ", ".join(f"u[..., {i}] * v[..., {j}] - u[..., {j}] * v[..., {i}]"
                               for i, j in ((1, 2), (2, 0), (0, 1)))
        return _back(call, f"(lambda u, v: tf.stack([{components}], axis=-1))({a}, {b})", kernel)

    return lower


def _cross_result(x, y):
    def result(facts):
        """NumPy's stand-ins are 2-vectors, for which cross means something else: the result
        is the broadcast of the two operands, in their common dtype."""
        a, b = facts[x], facts[y]
        if a.kind is not Kind.ARRAY or b.kind is not Kind.ARRAY or None in (a.rank, b.rank, a.dtype, b.dtype):
            return F.OTHER
        return F.array(np.result_type(a.dtype, b.dtype), max(a.rank, b.rank))

    return result


def _vecdot(call):
    """sum(conj(x1) * x2) over `axis` (broadcasting); the conjugate only for complex input."""
    axis = call.const("axis", -1)
    if not isinstance(axis, int):
        call.refuse("axis must be a constant integer")
    kernel = _kernel(call.result.dtype)
    x1, x2 = call.cast("x1", kernel), call.cast("x2", kernel)
    if call.result.dtype.kind == "c":
        x1 = f"tf.math.conj({x1})"
    return _back(call, f"tf.reduce_sum({x1} * {x2}, axis={axis})", kernel)


def _matrix_transpose(call):
    """Swaps the last two axes."""
    if _rank(call, "x") < 2:
        call.refuse("matrix_transpose needs at least two axes")
    return f"tf.linalg.matrix_transpose({call.text('x')})"


# -- the patterns -----------------------------------------------------------------------

_PRODUCT = Domain(dtypes=FLOATS + INTS, ranks=(1, 2, 3))
_LAPACK = ("float32", "float64")  # NumPy's linalg rejects float16
_SQUARE = Domain(values=Values.SQUARE, dtypes=_LAPACK + ("int64",), ranks=(2, 3))

PATTERNS = (
    Pattern("numpy.matmul", examples=("np.matmul(a, b)",), lower=_product("x1", "x2"), handles=("x1", "x2"),
            cast=Cast.NONE, batch=Batch.MATRIX, domain=_PRODUCT,
            note="1-D operands follow NumPy's promotion rules; narrow ints multiply in int32"),
    Pattern("numpy.dot", examples=("np.dot(a, b)", "np.dot(a, 2)"), lower=_dot, handles=("a", "b"),
            arrays=("a", "b"), cast=Cast.NONE, batch=Batch.NONE, domain=_PRODUCT,
            note="N-D: last axis of a with second-to-last of b (tensordot)"),
    Pattern("numpy.linalg.norm", examples=("np.linalg.norm(a)", "np.linalg.norm(a, axis=-1)",
                                           "np.linalg.norm(a, 1)"),
            lower=_norm, handles=("x", "ord", "axis", "keepdims"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=FLOATS + INTS + COMPLEX, ranks=(1, 2), grad=False),
            note="each ord has NumPy's meaning (ord=1 of a matrix is the max column sum)"),
    Pattern("numpy.linalg.inv", examples=("np.linalg.inv(a)",), tf="tf.linalg.inv(a)", batch=Batch.MATRIX,
            domain=_SQUARE),
    Pattern("numpy.linalg.det", examples=("np.linalg.det(a)",), tf="tf.linalg.det(a)", batch=Batch.MATRIX,
            domain=_SQUARE),
    Pattern("numpy.linalg.solve", examples=("np.linalg.solve(a, b)", "np.linalg.solve(a, a[..., 0])"),
            lower=_solve, handles=("a", "b"), arrays=("a", "b"), batch=Batch.NONE, domain=_SQUARE,
            note="a 1-D b is one vector (NumPy 2); batch axes broadcast (lu_solve)"),
    Pattern("numpy.linalg.pinv", examples=("np.linalg.pinv(a)", "np.linalg.pinv(a, rcond=1e-3)"),
            lower=_pinv, handles=("a", "rcond", "rtol", "hermitian"), batch=Batch.MATRIX,
            domain=Domain(dtypes=_LAPACK, ranks=(2, 3), grad=False),
            note="NumPy's default cutoff 1e-15 * max(s) (TF's is 10 * max(M, N) * eps * max(s))"),
    Pattern("numpy.kron", examples=("np.kron(a, b)",), lower=_kron, handles=("a", "b"), arrays=("a", "b"),
            batch=Batch.NONE, domain=Domain(dtypes=FLOATS + INTS, ranks=(1, 2))),
    Pattern("numpy.outer", examples=("np.outer(a, b)",), lower=_outer("a", "b"), handles=("a", "b"),
            arrays=("a", "b"), batch=Batch.NONE, domain=Domain(dtypes=FLOATS + INTS, ranks=(1, 2))),
)
PATTERNS = PATTERNS + (next(p for p in PATTERNS if p.numpy == "numpy.dot").as_method("dot", ("a.dot(b)",)),)

_TRACE = Pattern("numpy.trace", examples=("np.trace(a)", "np.trace(a, 1, axis1=-1, axis2=0)"),
                 lower=_trace, handles=("a", "offset", "axis1", "axis2"), batch=Batch.NONE,
                 domain=Domain(dtypes=FLOATS + INTS, ranks=(2, 3)),
                 note="sums over the FIRST two axes by default (tf.linalg.trace: the last two)")

PATTERNS = PATTERNS + (
    Pattern("numpy.vdot", examples=("np.vdot(a, b)",), lower=_vdot, handles=("a", "b"), arrays=("a", "b"),
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=FLOATS + INTS + COMPLEX, ranks=(1, 2),
                                                            broadcast=False),
            note="flattens both operands and conjugates the first"),
    Pattern("numpy.inner", examples=("np.inner(a, b)", "np.inner(a, 3)"), lower=_inner, handles=("a", "b"),
            arrays=("a", "b"), cast=Cast.NONE, batch=Batch.NONE, domain=_PRODUCT,
            note="contracts the last axes of both operands"),
    Pattern("numpy.tensordot", examples=("np.tensordot(a, b, 1)", "np.tensordot(a, b, axes=([0], [0]))"),
            lower=_tensordot("a", "b"), handles=("a", "b", "axes"), arrays=("a", "b"), cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(dtypes=FLOATS + INTS, ranks=(1, 2, 3), broadcast=False),
            note="NumPy's default axes=2; axis lists made non-negative"),
    Pattern("numpy.einsum", examples=("np.einsum('ij,kj->ik', a, b)", "np.einsum('...i,...i', a, b)",
                                      "np.einsum('ij->j', a)"),
            lower=_einsum, handles=("subscripts", "operands", "dtype", "optimize"), arrays=("operands",),
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=FLOATS + INTS, ranks=(1, 2, 3)),
            signature="(subscripts, *operands, out=None, dtype=None, order='K', casting='safe', optimize=False)",
            note="implicit output made explicit in NumPy's order; narrow ints in int32"),
    _TRACE,
    _TRACE.as_method("trace", ("a.trace()",)),
    Pattern("numpy.linalg.slogdet", examples=("np.linalg.slogdet(a)",), lower=lambda call: (
        f"tf.linalg.slogdet({call.cast('a', call.result.items[0].dtype)})"), handles=("a",), cast=Cast.NONE,
            batch=Batch.MATRIX, domain=Domain(values=Values.SQUARE, dtypes=_LAPACK + ("int64",), ranks=(2, 3),
                                              grad=False),
            note="(sign, logabsdet) in NumPy's order"),
    Pattern("numpy.linalg.cholesky", examples=("np.linalg.cholesky(a)", "np.linalg.cholesky(a, upper=True)"),
            lower=_cholesky, handles=("a", "upper"), batch=Batch.MATRIX,
            domain=Domain(values=Values.SPD, dtypes=_LAPACK, ranks=(2, 3), grad=False),
            note="upper=True reads the upper triangle, as LAPACK's 'U' (TF's gradient is the "
                 "symmetrized one, not that of a function of one triangle)"),
    Pattern("numpy.linalg.qr", examples=("np.linalg.qr(a)", "np.linalg.qr(a, mode='r')"), lower=_qr,
            handles=("a", "mode"), batch=Batch.MATRIX, domain=Domain(dtypes=_LAPACK, ranks=(2, 3), grad=False),
            note="Householder QR with LAPACK's sign convention"),
    Pattern("numpy.linalg.svd", examples=("np.linalg.svd(a, compute_uv=False)",), lower=_svd,
            handles=("a", "compute_uv", "hermitian", "full_matrices"), batch=Batch.MATRIX,
            domain=Domain(dtypes=_LAPACK, ranks=(2, 3), grad=False),
            note="values only: singular vectors' signs differ between LAPACK and TF"),
    Pattern("numpy.linalg.svdvals", examples=("np.linalg.svdvals(a)",), lower=_svdvals, handles=("x",),
            batch=Batch.MATRIX, domain=Domain(dtypes=_LAPACK, ranks=(2, 3), grad=False)),
    Pattern("numpy.linalg.eigvalsh", examples=("np.linalg.eigvalsh(a)", "np.linalg.eigvalsh(a, UPLO='U')"),
            lower=_eigvalsh, handles=("a", "UPLO"), batch=Batch.MATRIX,
            domain=Domain(values=Values.SQUARE, dtypes=_LAPACK, ranks=(2, 3), grad=False),
            note="reads one triangle only, as LAPACK"),
    Pattern("numpy.linalg.matrix_rank", examples=("np.linalg.matrix_rank(a)", "np.linalg.matrix_rank(a, tol=0.5)"),
            lower=_matrix_rank, handles=("A", "tol", "rtol", "hermitian"), cast=Cast.NONE, batch=Batch.MATRIX,
            domain=Domain(dtypes=_LAPACK, ranks=(2, 3), grad=False),
            note="default tolerance S.max() * max(M, N) * eps, as NumPy"),
    Pattern("numpy.linalg.matrix_power", examples=("np.linalg.matrix_power(a, 3)", "np.linalg.matrix_power(a, -1)",
                                                   "np.linalg.matrix_power(a, 0)"),
            lower=_matrix_power, handles=("a", "n"), cast=Cast.NONE, batch=Batch.MATRIX,
            domain=Domain(values=Values.SQUARE, dtypes=_LAPACK + ("int32",), ranks=(2, 3))),
    Pattern("numpy.linalg.multi_dot", examples=("np.linalg.multi_dot([a, b, a])",), lower=_multi_dot,
            handles=("arrays",), arrays=("arrays",), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(values=Values.SQUARE, dtypes=FLOATS + INTS, ranks=(2,), broadcast=False)),
    Pattern("numpy.cross", examples=("np.cross(a, b)",), lower=_cross("a", "b", True), handles=("a", "b"), result=_cross_result("a", "b"),
            arrays=("a", "b"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(values=Values.SQUARE, dtypes=FLOATS + ("int8", "int16", "int32", "int64"), ranks=(2, 3)),
            note="3-vectors on the last axis, broadcasting"),
    Pattern("numpy.linalg.cross", examples=("np.linalg.cross(a, b)",), lower=_cross("x1", "x2", False), result=_cross_result("x1", "x2"),
            handles=("x1", "x2", "axis"), arrays=("x1", "x2"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(values=Values.SQUARE, dtypes=FLOATS + ("int32", "int64"), ranks=(2, 3))),
    Pattern("numpy.linalg.vector_norm", examples=("np.linalg.vector_norm(a)",
                                                  "np.linalg.vector_norm(a, axis=0, ord=np.inf)",
                                                  "np.linalg.vector_norm(a, ord=3, keepdims=True)"),
            lower=_vector_norm, handles=("x", "ord", "axis", "keepdims"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=FLOATS + INTS + COMPLEX, ranks=(0, 1, 2), grad=False)),
    Pattern("numpy.linalg.matrix_norm", examples=("np.linalg.matrix_norm(a)", "np.linalg.matrix_norm(a, ord=-1)",
                                                  "np.linalg.matrix_norm(a, ord=2, keepdims=True)"),
            lower=_matrix_norm, handles=("x", "ord", "keepdims"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=_LAPACK + ("int64",) + COMPLEX, ranks=(2, 3), grad=False)),
    Pattern("numpy.linalg.outer", examples=("np.linalg.outer(a, b)",), lower=_outer("x1", "x2", False),
            handles=("x1", "x2"), arrays=("x1", "x2"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=FLOATS + INTS, ranks=(1,))),
    Pattern("numpy.linalg.vecdot", examples=("np.linalg.vecdot(a, b)", "np.linalg.vecdot(a, b, axis=0)"),
            lower=_vecdot, handles=("x1", "x2", "axis"), arrays=("x1", "x2"), batch=Batch.NONE,
            domain=Domain(dtypes=FLOATS + ("int32", "int64") + COMPLEX, ranks=(1, 2))),
    Pattern("numpy.vecdot", examples=("np.vecdot(a, b)",), lower=_vecdot, handles=("x1", "x2", "axis"),
            arrays=("x1", "x2"), batch=Batch.NONE,
            signature="(x1, x2, /, out=None, *, axis=-1, casting='same_kind', order='K', dtype=None, subok=True)",
            domain=Domain(dtypes=FLOATS + ("int32", "int64") + COMPLEX, ranks=(1, 2))),
    Pattern("numpy.linalg.matmul", examples=("np.linalg.matmul(a, b)",), lower=_product("x1", "x2"),
            handles=("x1", "x2"), arrays=("x1", "x2"), cast=Cast.NONE, batch=Batch.MATRIX, domain=_PRODUCT),
    Pattern("numpy.linalg.tensordot", examples=("np.linalg.tensordot(a, b, axes=1)",),
            lower=_tensordot("x1", "x2"), handles=("x1", "x2", "axes"), arrays=("x1", "x2"), cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(dtypes=FLOATS + INTS, ranks=(1, 2), broadcast=False)),
    Pattern("numpy.linalg.matrix_transpose", examples=("np.linalg.matrix_transpose(a)",),
            lower=_matrix_transpose, handles=("x",), cast=Cast.NONE, batch=Batch.MATRIX,
            domain=Domain(dtypes=FLOATS + INTS + COMPLEX, ranks=(2, 3))),
    Pattern("numpy.linalg.diagonal", examples=("np.linalg.diagonal(a)", "np.linalg.diagonal(a, offset=-1)"),
            lower=_diagonal, handles=("x", "offset"), cast=Cast.NONE, batch=Batch.MATRIX,
            domain=Domain(dtypes=FLOATS + INTS, ranks=(2, 3))),
    Pattern("numpy.linalg.trace", examples=("np.linalg.trace(a)", "np.linalg.trace(a, offset=1)"),
            lower=_linalg_trace, handles=("x", "offset"), batch=Batch.MATRIX,
            domain=Domain(dtypes=FLOATS + INTS, ranks=(2, 3)), note="the last two axes (unlike np.trace)"),
)
