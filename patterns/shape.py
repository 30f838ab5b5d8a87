"""Shape manipulation: reshape, transpose, axes added and removed, joining arrays.

These keep the dtype (`Cast.NONE`) except joins, which take their inputs' common dtype.
"""
from rewriter.facts import Fact, Kind
from rewriter.pattern import ALL, Batch, Cast, Domain, Pattern

FAMILY_CODE = "NP3"

_ANY = Domain(dtypes=ALL, ranks=(1, 2, 3))


def _shape_text(call, name):
    """A shape argument as TF takes it: ints, a tuple, or a shape tensor from `a.shape`."""
    fact = call.fact(name)
    if fact.kind is Kind.SCALAR:
        return f"[{call.text(name)}]"
    return call.text(name)


def _reshape(call):
    """tf.reshape; only C order (NumPy's default) has the same element order."""
    return f"tf.reshape({call.text('a')}, {_shape_text(call, 'shape')})"


def _method_reshape(call):
    """a.reshape(2, 3) and a.reshape((2, 3)) both mean tf.reshape(a, (2, 3))."""
    shape = call.args["shape"]
    items = shape.items or []
    if len(items) == 1:
        only = items[0]
        text = f"[{only.text}]" if only.fact.kind is Kind.SCALAR else only.text
    else:
        text = f"[{shape.text}]"
    return f"tf.reshape({call.text('self')}, {text})"


def _method_transpose(call):
    """a.transpose(), a.transpose(1, 0) and a.transpose((1, 0))."""
    items = call.args["axes"].items if call.given("axes") else []
    if not items:
        return f"tf.transpose({call.text('self')})"
    text = items[0].text if len(items) == 1 else f"[{call.text('axes')}]"
    return f"tf.transpose({call.text('self')}, {text})"


def _shape_attr(call):
    """a.shape: a shape tensor (its static part is not known when the rewrite is made)."""
    from rewriter.lower import Lowered

    return Lowered(f"tf.shape({call.text('self')})", Fact(Kind.SHAPE, rank=call.fact("self").rank, tensor=True), True)


def _ndim(call):
    """a.ndim: known statically from the rank."""
    from rewriter.facts import constant
    from rewriter.lower import Lowered

    rank = call.fact("self").rank
    if rank is None:
        call.refuse("the rank is unknown")
    return Lowered(str(rank), constant(rank), True)


def _size(call):
    """a.size: the element count (int64 NumPy int, weak in arithmetic)."""
    from rewriter.lower import Lowered

    return Lowered(f"tf.size({call.text('self')})", Fact(Kind.SCALAR, pytype=int, tensor=True), True)


def _squeeze_result(args):
    """Rank after squeezing: known only when the axes are given."""
    a = args.get("a", args.get("self"))
    axis = args.get("axis")
    if axis is None or a.rank is None or not (axis.known or axis.kind is Kind.TUPLE):
        return a.with_(rank=None, fresh=False)
    count = len(axis.items) if axis.kind is Kind.TUPLE else 1
    return a.with_(rank=a.rank - count, fresh=False)


def _concat(call):
    """tf.concat needs its axis spelled out (NumPy's default is 0)."""
    if call.given("axis") and call.fact("axis").known and call.fact("axis").value is None:
        call.refuse("axis=None (flatten first) is not rewritten")
    axis = call.text("axis") if call.given("axis") else "0"
    return f"tf.concat({call.text('a')}, axis={axis})"


def _squeeze(call):
    """tf.squeeze; NumPy's axis may be a tuple, TF takes a list."""
    if call.given("axis"):
        return f"tf.squeeze({call.text('a')}, axis={call.text('axis')})"
    return f"tf.squeeze({call.text('a')})"


PATTERNS = (
    Pattern("numpy.reshape", examples=("np.reshape(a, (-1,))", "np.reshape(a, (2, -1))"), lower=_reshape,
            handles=("a", "shape"), cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(2,)),
            note="C order only; order='F' is refused"),
    Pattern("numpy.transpose", examples=("np.transpose(a)", "np.transpose(a, (1, 0))"),
            tf="tf.transpose(a, perm=axes)", cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(2,))),
    Pattern("numpy.expand_dims", examples=("np.expand_dims(a, 0)", "np.expand_dims(a, -1)"),
            tf="tf.expand_dims(a, axis)", cast=Cast.NONE, batch=Batch.AXIS, domain=_ANY),
    Pattern("numpy.squeeze", examples=("np.squeeze(np.expand_dims(a, 1))", "np.squeeze(np.expand_dims(a, 0), axis=0)"),
            lower=_squeeze, handles=("a", "axis"), result=_squeeze_result, cast=Cast.NONE, batch=Batch.AXIS,
            domain=_ANY),
    Pattern("numpy.ravel", examples=("np.ravel(a)",), tf="tf.reshape(a, [-1])", cast=Cast.NONE,
            batch=Batch.NONE, domain=_ANY),
    Pattern("numpy.concatenate", examples=("np.concatenate([a, b])", "np.concatenate((a, b), axis=-1)"),
            lower=_concat, handles=("a", "axis"), cast=Cast.COMMON, batch=Batch.AXIS, domain=_ANY,
            note="axis defaults to 0 in both; axis=None (flatten first) is refused",
            signature="(a, axis=0, out=None, *, dtype=None, casting='same_kind')"),
    Pattern("numpy.stack", examples=("np.stack([a, b])", "np.stack((a, b), axis=-1)"),
            tf="tf.stack(arrays, axis=axis)", cast=Cast.COMMON, arrays=("arrays",), batch=Batch.AXIS,
            domain=Domain(dtypes=ALL, ranks=(0, 1, 2))),
    Pattern("ndarray.T", examples=("a.T",), tf="tf.transpose(self)", signature="attribute",
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2, 3))),
    Pattern("ndarray.shape", examples=("np.zeros(a.shape)",), lower=_shape_attr, signature="attribute",
            cast=Cast.NONE, domain=Domain(dtypes=ALL, ranks=(1, 2, 3), grad=False), batch=Batch.NONE),
    Pattern("ndarray.ndim", examples=("a.ndim + 0",), lower=_ndim, signature="attribute",
            cast=Cast.NONE, domain=Domain(dtypes=ALL, ranks=(1, 2, 3), grad=False), batch=Batch.NONE),
    Pattern("ndarray.size", examples=("a.sum() / a.size",), lower=_size, signature="attribute",
            cast=Cast.NONE, domain=Domain(ranks=(1, 2)), batch=Batch.NONE),
    Pattern("ndarray.reshape", examples=("a.reshape(-1)", "a.reshape((2, -1))", "a.reshape(2, -1)"),
            lower=_method_reshape, signature="(self, *shape, order='C')", handles=("shape",), cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(2,))),
    Pattern("ndarray.transpose", examples=("a.transpose()", "a.transpose(1, 0)", "a.transpose((1, 0))"),
            lower=_method_transpose, signature="(self, *axes)", handles=("axes",), cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(2,))),
)

PATTERNS = PATTERNS + tuple(
    p.as_method() for p in PATTERNS if p.numpy in ("numpy.squeeze", "numpy.ravel")
) + (next(p for p in PATTERNS if p.numpy == "numpy.ravel").as_method("flatten", ("a.flatten()",)),)
