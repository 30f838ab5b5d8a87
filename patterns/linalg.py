"""Linear algebra: products and `numpy.linalg`.

`matmul` of 1-D operands is a dot product or matrix-vector product in NumPy, which `tf.matmul`
rejects: those ranks get `tf.tensordot` / `tf.linalg.matvec`.
"""
from rewriter.pattern import FLOATS, INTS, Batch, Cast, Domain, Pattern, Values

FAMILY_CODE = "NP6"


def _matmul(call):
    """a @ b with NumPy's 1-D rules."""
    ranks = (call.fact("x1").rank, call.fact("x2").rank)
    a, b = call.text("x1"), call.text("x2")
    if None in ranks:
        call.refuse("the ranks of the operands are unknown")
    if min(ranks) >= 2:
        return f"tf.linalg.matmul({a}, {b})"
    if ranks == (1, 1):
        return f"tf.tensordot({a}, {b}, 1)"
    if ranks[1] == 1:
        return f"tf.linalg.matvec({a}, {b})"
    return f"tf.linalg.matvec({b}, {a}, transpose_a=True)"


def _dot(call):
    """np.dot: like matmul for ranks up to 2; a scalar operand multiplies."""
    ranks = (call.fact("a").rank, call.fact("b").rank)
    a, b = call.text("a"), call.text("b")
    if None in ranks or max(ranks) > 2:
        call.refuse("dot of arrays above rank 2 (or of unknown rank) is not rewritten")
    if 0 in ranks:
        return f"tf.multiply({a}, {b})"
    if ranks == (2, 2):
        return f"tf.linalg.matmul({a}, {b})"
    if ranks == (1, 1):
        return f"tf.tensordot({a}, {b}, 1)"
    if ranks == (2, 1):
        return f"tf.linalg.matvec({a}, {b})"
    return f"tf.linalg.matvec({b}, {a}, transpose_a=True)"


def _norm(call):
    """Frobenius / 2-norm by default; other `ord` values are refused for now."""
    if call.const("ord", None) is not None:
        call.refuse("ord= is not rewritten yet")
    axis = f", axis={call.text('axis')}" if call.given("axis") and call.const("axis") is not None else ""
    keep = f", keepdims={call.text('keepdims')}" if call.given("keepdims") else ""
    x = call.text("x")
    if not axis:
        return f"tf.sqrt(tf.reduce_sum(tf.square(tf.abs({x})){keep}))"
    return f"tf.sqrt(tf.reduce_sum(tf.square(tf.abs({x})){axis}{keep}))"


_PRODUCT = Domain(dtypes=FLOATS + INTS, ranks=(1, 2))

PATTERNS = (
    Pattern("numpy.matmul", examples=("np.matmul(a, b)",), lower=_matmul, handles=("x1", "x2"), batch=Batch.MATRIX,
            domain=_PRODUCT, note="1-D operands follow NumPy's promotion rules"),
    Pattern("numpy.dot", examples=("np.dot(a, b)",), lower=_dot, handles=("a", "b"), arrays=("a", "b"),
            batch=Batch.NONE, domain=_PRODUCT),
    Pattern("numpy.linalg.norm", examples=("np.linalg.norm(a)", "np.linalg.norm(a, axis=-1)"), lower=_norm,
            handles=("x", "ord", "axis", "keepdims"), batch=Batch.REDUCE,
            domain=Domain(dtypes=FLOATS + INTS, ranks=(1, 2), grad=False)),
    Pattern("numpy.linalg.inv", examples=("np.linalg.inv(a)",), tf="tf.linalg.inv(a)", batch=Batch.MATRIX,
            domain=Domain(values=Values.SQUARE, dtypes=FLOATS, ranks=(2, 3))),
    Pattern("numpy.linalg.det", examples=("np.linalg.det(a)",), tf="tf.linalg.det(a)", batch=Batch.MATRIX,
            domain=Domain(values=Values.SQUARE, dtypes=FLOATS, ranks=(2, 3))),
    Pattern("numpy.linalg.solve", examples=("np.linalg.solve(a, a)",), lower=lambda call: (
        f"tf.linalg.solve({call.text('a')}, {call.text('b')})"), handles=("a", "b"), arrays=("a", "b"),
            batch=Batch.MATRIX, domain=Domain(values=Values.SQUARE, dtypes=FLOATS, ranks=(2, 3))),
    Pattern("numpy.linalg.pinv", examples=("np.linalg.pinv(a)",), tf="tf.linalg.pinv(a)", batch=Batch.MATRIX,
            domain=Domain(values=Values.SQUARE, dtypes=FLOATS, ranks=(2,))),
    Pattern("numpy.kron", examples=("np.kron(a, b)",), lower=lambda call: (
        "tf.reshape(tf.einsum('ij,kl->ikjl', {a}, {b}), "
        "[tf.shape({a})[0] * tf.shape({b})[0], tf.shape({a})[1] * tf.shape({b})[1]])".format(
            a=call.text("a"), b=call.text("b")) if call.fact("a").rank == call.fact("b").rank == 2
        else call.refuse("only 2-D operands are rewritten")), handles=("a", "b"), arrays=("a", "b"),
            batch=Batch.NONE, domain=Domain(dtypes=FLOATS + INTS, ranks=(2,), broadcast=False)),
    Pattern("numpy.outer", examples=("np.outer(a, b)",), lower=lambda call: (
        f"tf.tensordot(tf.reshape({call.text('a')}, [-1]), tf.reshape({call.text('b')}, [-1]), 0)"),
            handles=("a", "b"), arrays=("a", "b"), batch=Batch.NONE, domain=Domain(dtypes=FLOATS + INTS, ranks=(1, 2))),
)
PATTERNS = PATTERNS + (next(p for p in PATTERNS if p.numpy == "numpy.dot").as_method("dot", ("a.dot(b)",)),)
