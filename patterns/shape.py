"""Shape manipulation: reshape, transpose, axes added and removed, joining and splitting
arrays, tiling, flipping, rolling, padding, triangles and diagonals.

These keep the dtype (`Cast.NONE`); joins bring every input to NumPy's result dtype
themselves (a Python scalar in a join is an array of NumPy's default dtype there, not a weak
scalar, so the result dtype comes from NumPy and each input is cast to it).

Axes are normalised at rewrite time from the input's rank, so every lowering needs the rank.
NumPy functions that return views (reshape, transpose, flip, diagonal, split, ...) give a
result that is not `fresh`: an in-place update of it would reach the original in NumPy, which
a TF rewrite cannot reproduce, so such updates are refused downstream.

Where the TF expression has to read an argument twice (its shape and its values), the argument
must be a plain name, so nothing is computed twice; otherwise the call is refused with that
reason.
"""
import re
import warnings

import numpy as np

from rewriter import facts as F
from rewriter.facts import Fact, Kind, tf_name
from rewriter.lower import Inconsistent, Lowered
from rewriter.pattern import ALL, OMIT, Batch, Cast, Domain, Pattern, parenthesize, render

FAMILY_CODE = "NPS"

_ANY = Domain(dtypes=ALL, ranks=(1, 2, 3))


def _shape_text(call, name):
    """A shape argument as TF takes it: ints, a tuple, or a shape tensor from `a.shape`."""
    fact = call.fact(name)
    if fact.kind is Kind.SCALAR:
        return f"[{call.text(name)}]"
    return call.text(name)


# -- helpers shared by the lowerings ------------------------------------------------------

def _not_fresh(fact):
    if fact.kind is Kind.TUPLE:
        return fact.with_(items=tuple(_not_fresh(i) for i in fact.items))
    return fact.with_(fresh=False) if fact.kind is Kind.ARRAY else fact


def _view(lower):
    """The lowering of a NumPy function that returns a view of its input: the result is not
    fresh, so an in-place update of it (which NumPy would see through the original) is refused."""
    def wrapped(call):
        out = lower(call)
        if isinstance(out, Lowered):
            return Lowered(out.text, _not_fresh(out.fact), True, out.items)
        return Lowered(out, _not_fresh(call.result), True)

    wrapped.__doc__ = lower.__doc__
    wrapped.__name__ = lower.__name__
    return wrapped


def _template(template):
    """A template as a lowering function (to wrap it in `_view`)."""
    def lower(call):
        bindings = {name: (value if value is OMIT else value.text) for name, value in call.args.items()}
        try:
            return render(template, bindings)
        except ValueError as exc:
            call.refuse(str(exc))

    lower.__doc__ = template
    return lower


def _holes(template):
    import ast

    return tuple(sorted({n.id for n in ast.walk(ast.parse(template, mode="eval")) if isinstance(n, ast.Name)}))


def _rank(call, name):
    rank = call.fact(name).rank
    if rank is None:
        call.refuse("the rank of the input is unknown")
    return rank


def _int(call, value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        call.refuse(f"{what} must be an integer constant")
    return int(value)


def _axis(call, value, ndim, what="axis"):
    """One axis normalised to 0..ndim-1 (NumPy raises on an axis out of range)."""
    value = _int(call, value, what)
    if not -ndim <= value < ndim:
        raise Inconsistent(f"{call.pattern.numpy}: {what} {value} is out of bounds for rank {ndim}")
    return value % ndim


def _axes(call, value, ndim, what="axis"):
    """An int or a tuple of ints as a list of distinct normalised axes."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    axes = [_axis(call, v, ndim, what) for v in items]
    if len(set(axes)) != len(axes):
        raise Inconsistent(f"{call.pattern.numpy}: repeated {what}")
    return axes


def _const(call, name, default=None):
    """A constant argument, nested tuples included (`((1, 2), (3, 4))`)."""
    if not call.given(name):
        return default

    def value_of(fact):
        if fact.kind is Kind.TUPLE:
            return tuple(value_of(i) for i in fact.items)
        if fact.known:
            return fact.value
        call.refuse(f"`{name}` must be a constant")

    return value_of(call.fact(name))


def _cheap(call, name):
    """The argument's text, which the lowering reads more than once: only a plain name."""
    text = call.text(name)
    if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", text):
        call.refuse(f"`{name}` is read twice (values and shape): bind it to a name first")
    return text


def _sub(text):
    """Text to index or take an attribute of."""
    return parenthesize(text)


def _literal(call, value, dtype):
    """A scalar that NumPy already converted to `dtype`, as TF source."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return repr(bool(value))
    if dtype.kind in "iu":
        return repr(int(value))
    if dtype.kind == "f":
        value = float(value)
        if np.isnan(value):
            return "float('nan')"
        if np.isinf(value):
            return "float('inf')" if value > 0 else "-float('inf')"
        return repr(value)
    value = complex(value)
    if not np.isfinite(value):
        call.refuse("non-finite complex constants are not rewritten")
    return repr(value)


def _identity_text(items):
    """Whether a per-item transform leaves an item unchanged (tested on a marker text)."""
    return all(text == "\x00" for text in items)


def _join_items(call, name, transform=lambda text, rank: text):
    """The texts of the arrays in a list/tuple argument, each in NumPy's result dtype and put
    through `transform(text, rank)`; a Python number among them becomes a tensor of that dtype
    (NumPy makes it an array of its default dtype, which the result dtype already reflects)."""
    value = call.args[name]
    dtype = call.result.dtype
    if value.fact.kind is not Kind.TUPLE:
        call.refuse(f"`{name}` must be a list or tuple of arrays (one array is split along its "
                    "first axis by NumPy)")
    facts = value.fact.items
    if not facts:
        raise Inconsistent(f"{call.pattern.numpy}: needs at least one array")
    for fact in facts:
        if fact.kind not in (Kind.ARRAY, Kind.SCALAR) or fact.kind is Kind.ARRAY and fact.rank is None:
            call.refuse(f"every item of `{name}` must be an array of known rank or a number")
    if value.items is None:
        # A name bound to a list: its items have no text of their own, so nothing can be done
        # per item. Fine only when no item needs a cast or a transform.
        if all(f.kind is Kind.ARRAY and f.dtype == dtype for f in facts) and \
                _identity_text([transform("\x00", f.rank) for f in facts]):
            return None
        call.refuse(f"`{name}` must be written out as a list in the call (its items need casts or reshapes)")
    texts = []
    for item in value.items:
        fact = item.fact
        if fact.kind is Kind.SCALAR and not fact.tensor:
            text, rank = f"tf.constant({item.text}, {tf_name(dtype)})", 0
        else:
            text, rank = call.lowering.cast(item, dtype).text, (fact.rank if fact.kind is Kind.ARRAY else 0)
        texts.append(transform(text, rank))
    return texts


def _joined(call, name, tf_fn, axis, transform=lambda text, rank: text):
    texts = _join_items(call, name, transform)
    listed = call.text(name) if texts is None else f"[{', '.join(texts)}]"
    return f"{tf_fn}({listed}, axis={axis})"


# -- the original patterns ----------------------------------------------------------------

def _reshape(call):
    """tf.reshape; only C order (NumPy's default) has the same element order."""
    if call.fact("a").kind is not Kind.ARRAY:
        call.refuse("reshaping a Python value is not rewritten")
    return f"tf.reshape({call.text('a')}, {_shape_text(call, 'shape')})"


def _shape_rank(fact):
    """The number of dimensions a shape argument names (None when unknown)."""
    if fact.kind is Kind.SCALAR:
        return 1
    if fact.kind is Kind.TUPLE:
        return len(fact.items)
    if fact.kind is Kind.SHAPE:
        return fact.rank
    return None


def _reshape_result(args):
    """NumPy's stand-in arrays (2 elements per axis) cannot show a reshape to other sizes:
    the result keeps the dtype and has as many axes as the shape names."""
    a = args.get("a", args.get("self"))
    shape = args.get("shape")
    if a is None or a.kind is not Kind.ARRAY or shape is None:
        return Fact(Kind.OTHER)
    if "self" in args and shape.kind is Kind.TUPLE and len(shape.items) == 1:
        shape = shape.items[0]  # a.reshape((2, 3)) as a.reshape(2, 3)
    return a.with_(rank=_shape_rank(shape), fresh=False)


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
    name = "self" if "self" in call.args else "a"
    if call.fact(name).kind is not Kind.ARRAY:
        call.refuse("the shape of a Python value is not rewritten")
    return Lowered(f"tf.shape({call.text(name)})", Fact(Kind.SHAPE, rank=call.fact(name).rank, tensor=True), True)


def _ndim(call):
    """a.ndim: known statically from the rank."""
    name = "self" if "self" in call.args else "a"
    if call.fact(name).kind is not Kind.ARRAY:
        call.refuse("the rank of a Python value is not rewritten")
    rank = call.fact(name).rank
    if rank is None:
        call.refuse("the rank is unknown")
    return Lowered(str(rank), F.constant(rank), True)


def _size(call):
    """a.size: the element count (int64 NumPy int, weak in arithmetic)."""
    name = "self" if "self" in call.args else "a"
    if call.fact(name).kind is not Kind.ARRAY:
        call.refuse("the size of a Python value is not rewritten")
    text = f"tf.size({call.text(name)})"
    if call.given("axis") and _const(call, "axis") is not None:
        axis = _axis(call, _const(call, "axis"), _rank(call, name))
        text = f"tf.shape({call.text(name)})[{axis}]"
    return Lowered(text, Fact(Kind.SCALAR, pytype=int, tensor=True, dtype=np.dtype("int32")), True)


def _squeeze_result(args):
    """Rank after squeezing: known only when the axes are given."""
    a = args.get("a", args.get("self"))
    axis = args.get("axis")
    if axis is None or a.rank is None or not (axis.known or axis.kind is Kind.TUPLE):
        return a.with_(rank=None, fresh=False)
    count = len(axis.items) if axis.kind is Kind.TUPLE else 1
    if axis.known and axis.value is None:
        return a.with_(rank=None, fresh=False)
    return a.with_(rank=a.rank - count, fresh=False)


def _concat(call):
    """tf.concat with NumPy's default axis 0 spelled out; axis=None concatenates the
    flattened arrays. One array (not a list) is refused: NumPy joins its rows, tf.concat
    would return it unchanged."""
    if call.given("axis") and call.fact("axis").known and call.fact("axis").value is None:
        return _joined(call, "a", "tf.concat", 0, lambda text, rank: f"tf.reshape({text}, [-1])")
    axis = call.text("axis") if call.given("axis") else "0"
    return _joined(call, "a", "tf.concat", axis)


def _stack(call):
    """tf.stack of a list of arrays (one array is refused: NumPy stacks its rows, tf.stack
    would return it unchanged whatever the axis)."""
    axis = call.text("axis") if call.given("axis") else "0"
    return _joined(call, "arrays", "tf.stack", axis)


def _squeeze(call):
    """tf.squeeze; NumPy's axis may be a tuple, TF takes a list. Both raise when a named axis
    does not have length one."""
    if call.given("axis") and not (call.fact("axis").known and call.fact("axis").value is None):
        return f"tf.squeeze({call.text('a')}, axis={call.text('axis')})"
    return f"tf.squeeze({call.text('a')})"


def _expand_dims(call):
    """tf.expand_dims; a tuple of axes (NumPy >= 1.18) inserts them one by one in increasing
    order of their positions in the result, which puts each where NumPy does."""
    if call.fact("axis").kind is not Kind.TUPLE:
        return f"tf.expand_dims({call.text('a')}, {call.text('axis')})"
    axis = _const(call, "axis")
    out_rank = _rank(call, "a") + len(axis)
    text = call.text("a")
    for position in sorted(_axes(call, axis, out_rank)):
        text = f"tf.expand_dims({text}, {position})"
    return text


# -- moving axes --------------------------------------------------------------------------

def _permuted(call, name, perm):
    if perm == list(range(len(perm))):
        return call.text(name)
    return f"tf.transpose({call.text(name)}, perm={perm})"


def _moveaxis(call):
    """tf.transpose with the permutation NumPy builds: the other axes keep their order and
    each source axis is inserted at its destination."""
    ndim = _rank(call, "a")
    source = _axes(call, call.const("source"), ndim, "source")
    destination = _axes(call, call.const("destination"), ndim, "destination")
    if len(source) != len(destination):
        raise Inconsistent("moveaxis: source and destination differ in length")
    order = [n for n in range(ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return _permuted(call, "a", order)


def _swapaxes(call):
    """tf.transpose with two axes exchanged."""
    ndim = _rank(call, "a")
    one, two = _axis(call, call.const("axis1"), ndim), _axis(call, call.const("axis2"), ndim)
    perm = list(range(ndim))
    perm[one], perm[two] = perm[two], perm[one]
    return _permuted(call, "a", perm)


def _rollaxis(call):
    """tf.transpose: the axis moves to just before `start` (counted before the move)."""
    ndim = _rank(call, "a")
    axis = _axis(call, call.const("axis"), ndim)
    start = _int(call, call.const("start", 0), "start")
    if start < 0:
        start += ndim
    if not 0 <= start < ndim + 1:
        raise Inconsistent("rollaxis: start is out of range")
    if axis < start:
        start -= 1
    perm = [n for n in range(ndim) if n != axis]
    perm.insert(start, axis)
    return _permuted(call, "a", perm)


def _rot90(call):
    """Rotation in the plane of two axes: a reverse, a transpose, or both, as NumPy composes
    them (k is taken modulo 4)."""
    ndim = _rank(call, "m")
    k = _int(call, call.const("k", 1), "k") % 4
    axes = call.const("axes", (0, 1))
    if not isinstance(axes, tuple) or len(axes) != 2:
        raise Inconsistent("rot90: axes must be two axes")
    first, second = (_axis(call, a, ndim) for a in axes)
    if first == second:
        raise Inconsistent("rot90: axes must differ")
    m = call.text("m")
    if k == 0:
        return m
    if k == 2:
        return f"tf.reverse({m}, axis={[first, second]})"
    perm = list(range(ndim))
    perm[first], perm[second] = perm[second], perm[first]
    if k == 1:
        return f"tf.transpose(tf.reverse({m}, axis=[{second}]), perm={perm})"
    return f"tf.reverse(tf.transpose({m}, perm={perm}), axis=[{second}])"


# -- at least N dimensions ----------------------------------------------------------------

def _at_least(ndim_wanted):
    def grow(text, rank):
        if rank >= ndim_wanted:
            return text
        if rank == 0:
            return f"tf.reshape({text}, {[1] * ndim_wanted})"
        if ndim_wanted == 2 or rank == 2:  # (N,) -> (1, N); (M, N) -> (M, N, 1)
            return f"tf.expand_dims({text}, {0 if rank == 1 else -1})"
        return f"tf.reshape({text}, [1, -1, 1])"  # (N,) -> (1, N, 1)

    return grow


def _atleast(ndim_wanted):
    grow = _at_least(ndim_wanted)

    def lower(call):
        items = call.args["arys"].items or []
        if not items:
            call.refuse("needs at least one array")
        texts = []
        for item in items:
            if item.fact.kind is not Kind.ARRAY or item.fact.rank is None:
                call.refuse("every argument must be an array of known rank")
            texts.append(grow(item.text, item.fact.rank))
        if len(texts) == 1:
            return texts[0]
        return Lowered(f"({', '.join(texts)})", call.result, True)

    lower.__doc__ = f"reshape 0-d and lower-rank arrays to {ndim_wanted}-D as NumPy does; others unchanged"
    return lower


# -- joins --------------------------------------------------------------------------------

def _vstack(call):
    """tf.concat on axis 0 after making every array at least 2-D ((N,) becomes (1, N))."""
    return _joined(call, "tup", "tf.concat", 0, _at_least(2))


def _hstack(call):
    """tf.concat after making every array at least 1-D: on axis 0 when the first array is
    1-D, else on axis 1."""
    tup = call.fact("tup")
    first = tup.items[0] if tup.kind is Kind.TUPLE and tup.items else None
    axis = 0 if first is not None and (first.kind is not Kind.ARRAY or first.rank in (0, 1)) else 1
    return _joined(call, "tup", "tf.concat", axis, _at_least(1))


def _dstack(call):
    """tf.concat on axis 2 after making every array at least 3-D ((N,) is (1, N, 1), (M, N)
    is (M, N, 1))."""
    return _joined(call, "tup", "tf.concat", 2, _at_least(3))


def _column_as_2d(text, rank):
    if rank == 0:
        return f"tf.reshape({text}, [1, 1])"
    if rank == 1:
        return f"tf.expand_dims({text}, 1)"
    return text


def _column_stack(call):
    """tf.concat on axis 1 where 1-D arrays become columns (N, 1) first (tf.concat would
    join them end to end)."""
    return _joined(call, "tup", "tf.concat", 1, _column_as_2d)


def _append(call):
    """tf.concat of the two inputs in NumPy's result dtype; axis=None (the default)
    concatenates both flattened."""
    dtype = call.result.dtype
    axis = _const(call, "axis")
    texts = []
    for name in ("arr", "values"):
        fact = call.fact(name)
        if fact.kind is Kind.ARRAY or fact.kind is Kind.SCALAR and fact.tensor:
            text = call.cast(name, dtype)
            texts.append(f"tf.reshape({text}, [-1])" if axis is None else text)
            continue
        value = _const(call, name)  # a number or a (nested) list of numbers
        value = np.asarray(value).astype(dtype)
        if axis is None:
            value = value.ravel()
        listed = _nested_literal(call, value, dtype)
        texts.append(f"tf.constant({listed}, {tf_name(dtype)})")
    if axis is None:
        return f"tf.concat([{', '.join(texts)}], axis=0)"
    return f"tf.concat([{', '.join(texts)}], axis={_int(call, axis, 'axis')})"


def _nested_literal(call, value, dtype):
    if value.ndim == 0:
        return _literal(call, value.item(), dtype)
    return "[" + ", ".join(_nested_literal(call, v, dtype) for v in value) + "]"


# -- splits -------------------------------------------------------------------------------

def _split_result(name):
    def result(args):
        ary = args[name]
        sections = args.get("indices_or_sections")
        if ary.kind is not Kind.ARRAY or sections is None:
            return Fact(Kind.OTHER)
        if sections.kind is Kind.SCALAR and sections.known:
            count = sections.value
        elif sections.kind is Kind.TUPLE:
            count = len(sections.items) + 1
        else:
            return Fact(Kind.OTHER)
        if not isinstance(count, int) or count <= 0:
            return Fact(Kind.OTHER)
        return Fact(Kind.TUPLE, items=(ary.with_(fresh=False),) * count)

    return result


def _split_along(call, axis_of, equal):
    """tf.split for a number of sections; explicit split points become slices, which keep
    NumPy's meaning of negative, out-of-range and decreasing points."""
    ndim = _rank(call, "ary")
    axis = axis_of(call, ndim)
    sections = _const(call, "indices_or_sections")
    ary = call.text("ary")
    if isinstance(sections, tuple):
        points = [_int(call, p, "a split point") for p in sections]
        ary = _cheap(call, "ary")
        bounds = [0] + points + [None]
        lead = ":, " * axis
        pieces = []
        for start, stop in zip(bounds, bounds[1:]):
            stop_text = "" if stop is None else str(stop)
            pieces.append(f"{_sub(ary)}[{lead}{start}:{stop_text}]")
        return Lowered(f"[{', '.join(pieces)}]", call.result, True)
    count = _int(call, sections, "the number of sections")
    if count <= 0:
        raise Inconsistent("the number of sections must be positive")
    if equal:
        # tf.split raises, as NumPy does, when the axis does not divide evenly.
        return Lowered(f"tf.split({ary}, {count}, axis={axis})", call.result, True)
    # NumPy's uneven split: the first (n % count) pieces are one longer, i.e. piece i has
    # (n + count - 1 - i) // count elements.
    ary = _cheap(call, "ary")
    sizes = f"(tf.shape({ary})[{axis}] + tf.range({count - 1}, -1, -1)) // {count}"
    return Lowered(f"tf.split({ary}, {sizes}, axis={axis})", call.result, True)


def _axis_param(call, ndim):
    if ndim == 0:
        raise Inconsistent("cannot split a 0-d array")
    return _axis(call, _const(call, "axis", 0), ndim)


def _split(call):
    """tf.split into equal sections (NumPy and TF both raise when uneven), or slices at
    explicit split points."""
    return _split_along(call, _axis_param, equal=True)


def _array_split(call):
    """tf.split with NumPy's uneven section sizes, or slices at explicit split points."""
    return _split_along(call, _axis_param, equal=False)


def _fixed_axis_split(axis, min_rank):
    def axis_of(call, ndim):
        if ndim < min_rank:
            raise Inconsistent(f"{call.pattern.numpy} needs at least {min_rank} dimensions")
        return 0 if axis == 1 and ndim == 1 else axis

    def lower(call):
        return _split_along(call, axis_of, equal=True)

    lower.__doc__ = f"tf.split along axis {axis} into equal sections, or slices at explicit points"
    return lower


# -- tiling and repeating -----------------------------------------------------------------

def _tile(call):
    """tf.tile after NumPy's alignment of `reps` and the array's shape: whichever is shorter
    is padded with leading ones (new leading axes of length one for the array)."""
    ndim = _rank(call, "A")
    reps = _const(call, "reps")
    reps = list(reps) if isinstance(reps, tuple) else [reps]
    reps = [_int(call, r, "reps") for r in reps]
    if any(r < 0 for r in reps):
        raise Inconsistent("tile: negative repetitions")
    text = call.text("A")
    if len(reps) > ndim:
        text = f"{_sub(text)}[{'tf.newaxis, ' * (len(reps) - ndim)}...]"
    multiples = [1] * (ndim - len(reps)) + reps
    if all(r == 1 for r in multiples):
        return text
    return f"tf.tile({text}, {multiples})"


def _repeat_result(args):
    a = args.get("a", args.get("self"))
    axis = args.get("axis")
    if a.kind is not Kind.ARRAY:
        return Fact(Kind.OTHER)
    flat = axis is None or axis.known and axis.value is None
    # A 0-d array is repeated as a 1-D one, also along an axis.
    return a.with_(rank=1 if flat or a.rank == 0 else a.rank, fresh=True)


def _repeat(call):
    """tf.repeat: the same meaning as np.repeat (axis=None flattens first, a single count or
    one per element along the axis, broadcast from length one)."""
    name = "a" if "a" in call.args else "self"
    if call.fact(name).kind is not Kind.ARRAY:
        call.refuse("repeating a Python value is not rewritten")
    ndim = _rank(call, name)
    repeats = call.fact("repeats")
    if repeats.kind is Kind.ARRAY:
        if repeats.dtype is None or repeats.dtype.kind not in "biu":
            raise Inconsistent("repeat counts must be integers")
        text = call.text("repeats")
        if repeats.dtype.name not in ("int32", "int64"):
            text = f"tf.cast({text}, tf.int64)"
    else:
        value = _const(call, "repeats")
        values = value if isinstance(value, tuple) else (value,)
        if any(_int(call, v, "repeats") < 0 for v in values):
            raise Inconsistent("repeat: negative repetitions")
        text = call.text("repeats")
    axis = _const(call, "axis")
    if axis is not None and ndim == 0:
        _axis(call, axis, 1)  # NumPy treats a 0-d array as 1-D here
        axis = None
    if axis is None:
        return f"tf.repeat({call.text(name)}, {text})"
    return f"tf.repeat({call.text(name)}, {text}, axis={_axis(call, axis, ndim)})"


# -- flips and rolls ----------------------------------------------------------------------

def _flip(call):
    """tf.reverse over the given axes; axis=None reverses every axis (not only the first)."""
    ndim = _rank(call, "m")
    axis = _const(call, "axis")
    axes = list(range(ndim)) if axis is None else _axes(call, axis, ndim)
    if not axes:
        return call.text("m")
    return f"tf.reverse({call.text('m')}, axis={axes})"


def _flip_fixed(axis):
    def lower(call):
        if _rank(call, "m") <= axis:
            raise Inconsistent(f"{call.pattern.numpy} needs at least {axis + 1} dimensions")
        return f"tf.reverse({call.text('m')}, axis=[{axis}])"

    lower.__doc__ = f"tf.reverse along axis {axis}"
    return lower


def _roll(call):
    """tf.roll; axis=None rolls the flattened array and restores the shape (tf.roll needs an
    axis). NumPy broadcasts shift against axis and adds the shifts of a repeated axis, as
    tf.roll does."""
    ndim = _rank(call, "a")
    a = call.text("a")
    axis = _const(call, "axis")
    shift_fact = call.fact("shift")
    if shift_fact.kind is Kind.ARRAY or shift_fact.kind is Kind.SCALAR and not shift_fact.known:
        if shift_fact.kind is Kind.ARRAY and (shift_fact.rank != 0 or shift_fact.dtype.kind not in "iu"):
            call.refuse("an array of shifts is not rewritten")
        shifts = None  # one integer scalar tensor
    else:
        value = call.const("shift")
        shifts = [_int(call, s, "shift") for s in (value if isinstance(value, tuple) else (value,))]
    if axis is None:
        if ndim == 0:
            return a
        shift = call.text("shift") if shifts is None else str(sum(shifts))
        if ndim == 1:
            return f"tf.roll({a}, {shift}, axis=0)"
        a = _cheap(call, "a")
        return f"tf.reshape(tf.roll(tf.reshape({a}, [-1]), {shift}, axis=0), tf.shape({a}))"
    axes = [_axis(call, x, ndim) for x in (axis if isinstance(axis, tuple) else (axis,))]
    if shifts is None:
        if len(axes) != 1:
            call.refuse("a shift tensor with several axes is not rewritten")
        return f"tf.roll({a}, {call.text('shift')}, axis={axes[0]})"
    shift_value = call.const("shift")
    try:
        pairs = np.broadcast(np.array(shift_value), np.array(axes if isinstance(axis, tuple) else axes[0]))
    except ValueError:
        raise Inconsistent("roll: shift and axis do not broadcast") from None
    if pairs.nd > 1:
        raise Inconsistent("roll: shift and axis must be scalars or 1-D")
    pairs = [(int(s), int(x)) for s, x in pairs]
    if len(pairs) == 1:
        return f"tf.roll({a}, {pairs[0][0]}, axis={pairs[0][1]})"
    return f"tf.roll({a}, shift={[s for s, _ in pairs]}, axis={[x for _, x in pairs]})"


# -- broadcasting -------------------------------------------------------------------------

def _broadcast_to_result(args):
    array, shape = args["array"], args.get("shape")
    if array.kind is not Kind.ARRAY or shape is None:
        return Fact(Kind.OTHER)
    if shape.kind is Kind.SCALAR:
        rank = 1
    elif shape.kind is Kind.TUPLE:
        rank = len(shape.items)
    elif shape.kind is Kind.SHAPE:
        rank = shape.rank
    else:
        return Fact(Kind.OTHER)
    return array.with_(rank=rank, fresh=False)


def _broadcast_to(call):
    """tf.broadcast_to (a read-only view in NumPy)."""
    if call.fact("array").kind is not Kind.ARRAY:
        call.refuse("broadcasting a Python value is not rewritten")
    if call.result.kind is not Kind.ARRAY or call.result.rank is None:
        call.refuse("the rank of the target shape is unknown")
    if _rank(call, "array") > call.result.rank:
        raise Inconsistent("broadcast_to: the target shape has fewer dimensions than the array")
    shape = call.fact("shape")
    text = _shape_text(call, "shape")
    if shape.kind is Kind.TUPLE and call.args["shape"].items is not None:
        text = f"[{', '.join(i.text for i in call.args['shape'].items)}]"
    return f"tf.broadcast_to({call.text('array')}, {text})"


# -- padding ------------------------------------------------------------------------------

def _pad_pairs(call, pad_width, ndim):
    """NumPy's reading of `pad_width`: one number for every side, one (before, after) pair for
    every axis, or one pair per axis."""
    width = np.asarray(pad_width)
    if width.dtype.kind not in "iu":
        raise Inconsistent("pad: pad_width must be integers")
    if width.size == 1:
        pairs = [(int(width.ravel()[0]),) * 2] * ndim
    elif width.size == 2 and width.shape != (2, 1):
        before, after = (int(v) for v in width.ravel())
        pairs = [(before, after)] * ndim
    else:
        try:
            pairs = [tuple(int(v) for v in row) for row in np.broadcast_to(width, (ndim, 2))]
        except ValueError:
            raise Inconsistent("pad: pad_width does not fit the array's rank") from None
    if any(v < 0 for pair in pairs for v in pair):
        raise Inconsistent("pad: negative pad width")
    return pairs


def _pad_values(call, ndim, dtype):
    """The constant of every side, converted by NumPy itself: it pads a tiny array of the
    input dtype and the sides are read back (so scalars, pairs and per-axis pairs, and
    NumPy's own casts, are all exactly NumPy's)."""
    values = _const(call, "constant_values", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            padded = np.pad(np.zeros((1,) * ndim, dtype), 1, mode="constant", constant_values=values)
        except Exception:
            call.refuse("constant_values that NumPy converts with a warning are not rewritten")
    sides = []
    for axis in range(ndim):
        index = [1] * ndim
        index[axis] = 0
        before = padded[tuple(index)]
        index[axis] = 2
        sides.append((before, padded[tuple(index)]))
    return sides


def _is_plain_zero(value):
    return value == 0 and not np.signbit(np.real(value)) and not np.signbit(np.imag(value))


def _pad_constant(call, array, pairs, dtype):
    """tf.pad with NumPy's constant(s); different constants on different sides become one
    tf.pad per side, in axis order, so the corners take the last axis's constant as in NumPy."""
    sides = _pad_values(call, len(pairs), dtype)
    used = [value for pair, values in zip(pairs, sides) for width, value in zip(pair, values) if width]
    if all(np.asarray(v).tobytes() == np.asarray(used[0]).tobytes() for v in used):  # NaN and -0.0 too
        value = used[0]
        extra = "" if _is_plain_zero(value) else \
            f", constant_values=tf.constant({_literal(call, value, dtype)}, {tf_name(dtype)})"
        return f"tf.pad({array}, {[list(p) for p in pairs]}{extra})"
    text = array
    for axis, (pair, values) in enumerate(zip(pairs, sides)):
        for side, (width, value) in enumerate(zip(pair, values)):
            if not width:
                continue
            paddings = [[0, 0] for _ in pairs]
            paddings[axis][side] = width
            extra = "" if _is_plain_zero(value) else \
                f", constant_values=tf.constant({_literal(call, value, dtype)}, {tf_name(dtype)})"
            text = f"tf.pad({text}, {paddings}{extra})"
    return text


def _pad_index(mode, n, before, after):
    """Indices into an axis of length `n` (TF text) that NumPy's padding modes read, for every
    position of the padded axis; valid for pads of any width (TF's MirrorPad is limited to
    pads shorter than the axis)."""
    stop = f"{n} + {after}" if after else n
    j = f"tf.range({-before}, {stop})" if before else f"tf.range({stop})"
    if mode == "edge":
        return f"tf.clip_by_value({j}, 0, {n} - 1)"
    if mode == "wrap":
        return f"{j} % {n}"
    if mode == "reflect":
        # Period 2(n - 1) triangle wave around the edge elements (period 1 when n == 1).
        start = f"{n} - {1 + before}"
        return f"tf.abs(tf.range({start}, 2 * {n} - 1 + {after}) % tf.maximum(2 * {n} - 2, 1) - ({n} - 1))"
    # symmetric: period 2n with the edge elements repeated; in half-steps it is a triangle
    # wave: (2n - 1 - |(2j + 1) mod 4n - 2n|) / 2.
    return f"(2 * {n} - 1 - tf.abs((2 * {j} + 1) % (4 * {n}) - 2 * {n})) // 2"


def _pad(call):
    """np.pad: mode 'constant' is tf.pad (with NumPy's pad_width forms and its cast of the
    constant); 'reflect', 'symmetric', 'edge' and 'wrap' gather NumPy's indices axis by axis,
    so pads wider than the axis repeat as NumPy does. Statistic and ramp modes are refused."""
    ndim = _rank(call, "array")
    dtype = call.fact("array").dtype
    mode = _const(call, "mode", "constant")
    if not isinstance(mode, str):
        call.refuse("mode must be a string constant")
    if call.given("constant_values") and mode != "constant":
        raise Inconsistent("pad: constant_values is only for mode='constant'")
    if call.given("reflect_type"):
        if mode not in ("reflect", "symmetric"):
            raise Inconsistent("pad: reflect_type is only for the reflect and symmetric modes")
        if _const(call, "reflect_type") != "even":
            call.refuse("reflect_type='odd' is not rewritten")
    pairs = _pad_pairs(call, _const(call, "pad_width"), ndim)
    array = call.text("array")
    if all(pair == (0, 0) for pair in pairs):
        return array
    if mode == "constant":
        return _pad_constant(call, array, pairs, dtype)
    if mode not in ("reflect", "symmetric", "edge", "wrap"):
        call.refuse(f"mode={mode!r} is not rewritten")
    source = _cheap(call, "array")
    text = array
    for axis, (before, after) in enumerate(pairs):
        if before or after:
            index = _pad_index(mode, f"tf.shape({source})[{axis}]", before, after)
            text = f"tf.gather({text}, {index}, axis={axis})"
    return text


# -- triangles and diagonals --------------------------------------------------------------

def _triangle(upper):
    def lower(call):
        ndim = _rank(call, "m")
        if ndim == 0:
            raise Inconsistent("triu/tril need at least one dimension")
        k = _int(call, call.const("k", 0), "k")
        m = call.text("m")
        if ndim >= 2 and k == 0:
            return f"tf.linalg.band_part({m}, 0, -1)" if upper else f"tf.linalg.band_part({m}, -1, 0)"
        # k != 0 (band_part raises when a band is wider than the matrix, NumPy does not) or a
        # 1-D input (which NumPy broadcasts to a square matrix): a mask from the column minus
        # row offset.
        m = _cheap(call, "m")
        rows = f"tf.shape({m})[{-2 if ndim >= 2 else -1}]"
        keep = ">=" if upper else "<="
        mask = f"tf.range(tf.shape({m})[-1]) - tf.range({rows})[:, tf.newaxis] {keep} {k}"
        return f"tf.where({mask}, {m}, tf.zeros([], {tf_name(call.result.dtype)}))"

    lower.__doc__ = ("tf.linalg.band_part on the last two axes for k=0; a mask from tf.range "
                     "otherwise, and for 1-D input (NumPy broadcasts it to a square matrix)")
    return lower


def _diagonal_of(text, offset):
    """diag_part of the last two axes at an offset, by slicing first: TF raises for an offset
    outside the matrix where NumPy returns an empty diagonal."""
    if offset > 0:
        text = f"{_sub(text)}[..., {offset}:]"
    elif offset < 0:
        text = f"{_sub(text)}[..., {-offset}:, :]"
    return f"tf.linalg.diag_part({text})"


def _diag(call):
    """1-D: tf.linalg.diag (k places it off the main diagonal, in a larger square matrix as in
    NumPy); 2-D: the k-th diagonal."""
    ndim = _rank(call, "v")
    k = _int(call, call.const("k", 0), "k")
    if ndim == 1:
        return f"tf.linalg.diag({call.text('v')}{f', k={k}' if k else ''})"
    if ndim == 2:
        return Lowered(_diagonal_of(call.text("v"), k), _not_fresh(call.result), True)
    raise Inconsistent("diag needs a 1-D or 2-D input")


def _diagflat(call):
    """tf.linalg.diag of the flattened input."""
    k = _int(call, call.const("k", 0), "k")
    return f"tf.linalg.diag(tf.reshape({call.text('v')}, [-1]){f', k={k}' if k else ''})"


def _diagonal(call):
    """tf.linalg.diag_part after moving axis1 and axis2 last: NumPy's default axes are the
    first two (0, 1), TF's diag_part always takes the last two."""
    ndim = _rank(call, "a")
    if ndim < 2:
        raise Inconsistent("diagonal needs at least two dimensions")
    one = _axis(call, call.const("axis1", 0), ndim)
    two = _axis(call, call.const("axis2", 1), ndim)
    if one == two:
        raise Inconsistent("diagonal: axis1 and axis2 must differ")
    offset = _int(call, call.const("offset", 0), "offset")
    perm = [n for n in range(ndim) if n not in (one, two)] + [one, two]
    return _diagonal_of(_permuted(call, "a", perm), offset)


# -- grids --------------------------------------------------------------------------------

def _meshgrid(call):
    """tf.meshgrid when the inputs share a dtype (TF multiplies by ones of the first input's
    dtype); mixed dtypes (each output keeps its input's dtype in NumPy) broadcast each
    reshaped input to the grid. sparse=True only reshapes. indexing='xy' (NumPy's default)
    swaps the first two grid axes."""
    items = call.args["xi"].items or []
    if not items:
        call.refuse("needs at least one array")
    if any(i.fact.kind is not Kind.ARRAY for i in items):
        call.refuse("every argument must be an array")
    indexing = _const(call, "indexing", "xy")
    if indexing not in ("xy", "ij"):
        raise Inconsistent("meshgrid: indexing must be 'xy' or 'ij'")
    sparse = bool(_const(call, "sparse", False))
    count = len(items)
    shapes = []
    for position in range(count):
        shape = [1] * count
        shape[position] = -1
        if indexing == "xy" and count > 1 and position < 2:
            shape[0], shape[1] = shape[1], shape[0]
        shapes.append(shape)
    if sparse:
        texts = [f"tf.reshape({i.text}, {s})" for i, s in zip(items, shapes)]
        return Lowered(f"[{', '.join(texts)}]", call.result, True)
    if len({i.fact.dtype for i in items}) == 1:
        keyword = ", indexing='ij'" if indexing == "ij" else ""
        return Lowered(f"tf.meshgrid({', '.join(i.text for i in items)}{keyword})", call.result, True)
    names = [i.text for i in items]
    if not all(re.fullmatch(r"[A-Za-z_]\w*", n) for n in names):
        call.refuse("inputs of different dtypes are read twice: bind them to names first")
    sizes = [f"tf.size({n})" for n in names]
    if indexing == "xy":
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grid = f"[{', '.join(sizes)}]"
    texts = [f"tf.broadcast_to(tf.reshape({n}, {s}), {grid})" for n, s in zip(names, shapes)]
    return Lowered(f"[{', '.join(texts)}]", call.result, True)


# -- copies -------------------------------------------------------------------------------

def _copy(call):
    """tf.identity: a new value (memory order has no meaning for a tensor)."""
    name = "a" if "a" in call.args else "self"
    if call.fact(name).kind is not Kind.ARRAY:
        call.refuse("copying a Python value is not rewritten")
    return f"tf.identity({call.text(name)})"


def _split_pattern(name, examples, lower, signature=None):
    return Pattern(f"numpy.{name}", examples=examples, lower=_view(lower),
                   handles=("ary", "indices_or_sections", "axis"), result=_split_result("ary"),
                   cast=Cast.NONE, batch=Batch.NONE, domain=_ANY, signature=signature,
                   note="returns a list whose length is fixed by the sections argument")


def _view_template(numpy, template, **kw):
    return Pattern(numpy, tf="", lower=_view(_template(template)), handles=_holes(template), **kw)


PATTERNS = (
    Pattern("numpy.reshape", examples=("np.reshape(a, (-1,))", "np.reshape(a, (2, -1))", "np.reshape(a, (4, 3))"),
            lower=_view(_reshape), handles=("a", "shape"), result=_reshape_result, cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(2,)),
            note="C order only; order='F' is refused"),
    _view_template("numpy.transpose", "tf.transpose(a, perm=axes)",
                   examples=("np.transpose(a)", "np.transpose(a, (1, 0))"),
                   cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(2,))),
    Pattern("numpy.expand_dims", examples=("np.expand_dims(a, 0)", "np.expand_dims(a, -1)",
                                           "np.expand_dims(a, (0, -1))"),
            lower=_view(_expand_dims), handles=("a", "axis"), cast=Cast.NONE, batch=Batch.AXIS, domain=_ANY,
            note="a tuple of axes is inserted one by one in increasing order"),
    Pattern("numpy.squeeze", examples=("np.squeeze(np.expand_dims(a, 1))", "np.squeeze(np.expand_dims(a, 0), axis=0)"),
            lower=_view(_squeeze), handles=("a", "axis"), result=_squeeze_result, cast=Cast.NONE, batch=Batch.AXIS,
            domain=_ANY, note="both raise when a named axis does not have length one"),
    _view_template("numpy.ravel", "tf.reshape(a, [-1])", examples=("np.ravel(a)",), cast=Cast.NONE,
                   batch=Batch.NONE, domain=_ANY),
    Pattern("numpy.concatenate", examples=("np.concatenate([a, b])", "np.concatenate((a, b), axis=-1)",
                                           "np.concatenate([a, b], axis=None)"),
            lower=_concat, handles=("a", "axis"), cast=Cast.NONE, batch=Batch.AXIS,
            domain=Domain(dtypes=ALL, ranks=(0, 1, 2)),
            note="axis defaults to 0 in both; axis=None joins the flattened arrays; a single array "
                 "(NumPy joins its rows) is refused",
            signature="(a, axis=0, out=None, *, dtype=None, casting='same_kind')"),
    Pattern("numpy.stack", examples=("np.stack([a, b])", "np.stack((a, b), axis=-1)"),
            lower=_stack, handles=("arrays", "axis"), cast=Cast.NONE, arrays=("arrays",), batch=Batch.AXIS,
            domain=Domain(dtypes=ALL, ranks=(0, 1, 2)), note="a single array (NumPy stacks its rows) is refused"),
    _view_template("ndarray.T", "tf.transpose(self)", examples=("a.T",), signature="attribute",
                   cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2, 3))),
    Pattern("ndarray.shape", examples=("np.zeros(a.shape)",), lower=_shape_attr, signature="attribute",
            cast=Cast.NONE, domain=Domain(dtypes=ALL, ranks=(1, 2, 3), grad=False), batch=Batch.NONE),
    Pattern("ndarray.ndim", examples=("a.ndim + 0",), lower=_ndim, signature="attribute",
            cast=Cast.NONE, domain=Domain(dtypes=ALL, ranks=(1, 2, 3), grad=False), batch=Batch.NONE),
    Pattern("ndarray.size", examples=("a * a.size",), lower=_size, signature="attribute",
            cast=Cast.NONE, domain=Domain(ranks=(1, 2)), batch=Batch.NONE),
    Pattern("ndarray.reshape", examples=("a.reshape(-1)", "a.reshape((2, -1))", "a.reshape(2, 2, 3)"),
            lower=_view(_method_reshape), result=_reshape_result, signature="(self, *shape, order='C')", handles=("shape",), cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(2,))),
    Pattern("ndarray.transpose", examples=("a.transpose()", "a.transpose(1, 0)", "a.transpose((1, 0))"),
            lower=_view(_method_transpose), signature="(self, *axes)", handles=("axes",), cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(2,))),
)

PATTERNS = PATTERNS + tuple(
    p.as_method() for p in PATTERNS if p.numpy in ("numpy.squeeze", "numpy.ravel")
) + (Pattern("ndarray.flatten", examples=("a.flatten()",), tf="tf.reshape(self, [-1])",
             signature="(self, order='C')", cast=Cast.NONE, batch=Batch.NONE, domain=_ANY,
             note="always a copy in NumPy"),)

_MATRIX = Domain(dtypes=ALL, ranks=(2, 3))

PATTERNS = PATTERNS + (
    Pattern("numpy.moveaxis", examples=("np.moveaxis(a, 0, -1)", "np.moveaxis(a, (0, 1), (-1, 0))"),
            lower=_view(_moveaxis), handles=("a", "source", "destination"), cast=Cast.NONE, batch=Batch.NONE,
            domain=_ANY),
    Pattern("numpy.swapaxes", examples=("np.swapaxes(a, 0, -1)",), lower=_view(_swapaxes),
            handles=("a", "axis1", "axis2"), cast=Cast.NONE, batch=Batch.NONE, domain=_ANY),
    Pattern("numpy.rollaxis", examples=("np.rollaxis(a, -1)", "np.rollaxis(a, 0, 2)"), lower=_view(_rollaxis),
            handles=("a", "axis", "start"), cast=Cast.NONE, batch=Batch.NONE, domain=_ANY,
            note="start counts positions before the axis is removed, as in NumPy"),
    _view_template("numpy.matrix_transpose", "tf.linalg.matrix_transpose(x)", examples=("np.matrix_transpose(a)",),
                   cast=Cast.NONE, batch=Batch.MATRIX, domain=_MATRIX, note="no conjugation, as in NumPy"),
    Pattern("numpy.atleast_1d", examples=("np.atleast_1d(a)",), lower=_view(_atleast(1)), handles=("arys",),
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2))),
    Pattern("numpy.atleast_2d", examples=("np.atleast_2d(a)", "np.atleast_2d(a, b)"), lower=_view(_atleast(2)),
            handles=("arys",), cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2, 3))),
    Pattern("numpy.atleast_3d", examples=("np.atleast_3d(a)",), lower=_view(_atleast(3)), handles=("arys",),
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2, 3)),
            note="(N,) becomes (1, N, 1) and (M, N) becomes (M, N, 1)"),
    Pattern("numpy.vstack", examples=("np.vstack([a, b])",), lower=_vstack,
            handles=("tup",), cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2, 3)),
            note="1-D inputs are rows (1, N)"),
    Pattern("numpy.row_stack", examples=("np.row_stack([a, b])",), lower=_vstack, handles=("tup",),
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(1, 2)),
            note="deprecated alias of vstack"),
    Pattern("numpy.hstack", examples=("np.hstack([a, b])",), lower=_hstack,
            handles=("tup",), cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2, 3)),
            note="axis 0 for 1-D inputs, else axis 1"),
    Pattern("numpy.dstack", examples=("np.dstack([a, b])",), lower=_dstack, handles=("tup",),
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2, 3))),
    Pattern("numpy.column_stack", examples=("np.column_stack((a, b))",),
            lower=_column_stack, handles=("tup",), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=ALL, ranks=(0, 1, 2, 3)), note="1-D inputs become columns (N, 1)"),
    _split_pattern("split", ("np.split(a, 2, axis=-1)", "np.split(a, [3, 1, -1], axis=-1)"),
                   _split),
    _split_pattern("array_split", ("np.array_split(a, 3, axis=-1)", "np.array_split(a, [2, 10])"), _array_split),
    _split_pattern("hsplit", ("np.hsplit(a, 2)", "np.hsplit(a, [1])"), _fixed_axis_split(1, 1)),
    _split_pattern("vsplit", ("np.vsplit(a, 3)", "np.vsplit(a, [1])"), _fixed_axis_split(0, 2)),
    _split_pattern("dsplit", ("np.dsplit(a, 2)", "np.dsplit(a, [1, 3])"), _fixed_axis_split(2, 3)),
    Pattern("numpy.tile", examples=("np.tile(a, 2)", "np.tile(a, (2, 1, 3))"),
            lower=_tile, handles=("A", "reps"), arrays=("A",), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=ALL, ranks=(0, 1, 2, 3)),
            note="reps and the shape are aligned from the right, padding the shorter with ones"),
    Pattern("numpy.repeat", examples=("np.repeat(a, 2)", "np.repeat(a, 3, axis=-1)", "np.repeat(a, [2, 0, 1], axis=0)"),
            lower=_repeat, handles=("a", "repeats", "axis"), result=_repeat_result, cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2))),
    Pattern("numpy.flip", examples=("np.flip(a)", "np.flip(a, (0, -1))"), lower=_view(_flip),
            handles=("m", "axis"), cast=Cast.NONE, batch=Batch.AXIS, domain=Domain(dtypes=ALL, ranks=(0, 1, 2, 3)),
            note="axis=None reverses every axis"),
    Pattern("numpy.fliplr", examples=("np.fliplr(a)",), lower=_view(_flip_fixed(1)), handles=("m",),
            cast=Cast.NONE, batch=Batch.NONE, domain=_MATRIX),
    Pattern("numpy.flipud", examples=("np.flipud(a)",), lower=_view(_flip_fixed(0)), handles=("m",),
            cast=Cast.NONE, batch=Batch.NONE, domain=_ANY),
    Pattern("numpy.roll", examples=("np.roll(a, 2)", "np.roll(a, -1, axis=0)", "np.roll(a, (1, 2), axis=(0, -1))"),
            lower=_roll, handles=("a", "shift", "axis"), cast=Cast.NONE, batch=Batch.NONE,
            domain=Domain(dtypes=ALL, ranks=(0, 1, 2)), note="axis=None rolls the flattened array"),
    Pattern("numpy.broadcast_to", examples=("np.broadcast_to(a, (3, 4))", "np.broadcast_to(a, (2, 3, 4))"),
            lower=_view(_broadcast_to), handles=("array", "shape"), result=_broadcast_to_result,
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2, 3))),
    Pattern("numpy.pad", examples=("np.pad(a, (1, 2), constant_values=7.5)",
                                   "np.pad(a, ((1, 2), (3, 0)), constant_values=((1, 2), (3, -4)))",
                                   "np.pad(a, 3, mode='reflect')", "np.pad(a, ((4, 0), (1, 5)), mode='symmetric')"),
            lower=_pad, handles=("array", "pad_width", "mode", "constant_values", "reflect_type"),
            signature="(array, pad_width, mode='constant', *, constant_values=0, reflect_type='even', "
                      "stat_length=None, end_values=0)",
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(1, 2)),
            note="pads wider than the axis repeat the reflection as in NumPy (TF's MirrorPad refuses them)"),
    Pattern("numpy.triu", examples=("np.triu(a)", "np.triu(a, 1)"), lower=_triangle(True),
            handles=("m", "k"), cast=Cast.NONE, batch=Batch.MATRIX, domain=_ANY,
            note="1-D input broadcasts to a square matrix, as in NumPy"),
    Pattern("numpy.tril", examples=("np.tril(a)", "np.tril(a, -1)"), lower=_triangle(False),
            handles=("m", "k"), cast=Cast.NONE, batch=Batch.MATRIX, domain=_ANY,
            note="1-D input broadcasts to a square matrix, as in NumPy"),
    Pattern("numpy.diag", examples=("np.diag(a)", "np.diag(a, -2)"), lower=_diag,
            handles=("v", "k"), cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(1, 2)),
            note="an offset outside the matrix gives an empty diagonal (TF's diag_part raises)"),
    Pattern("numpy.diagflat", examples=("np.diagflat(a)", "np.diagflat(a, -1)"), lower=_diagflat,
            handles=("v", "k"), cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2))),
    Pattern("numpy.diagonal", examples=("np.diagonal(a)", "np.diagonal(a, 1, -1, 0)",
                                        "np.diagonal(a, offset=-1, axis1=1, axis2=2)"),
            lower=_view(_diagonal), handles=("a", "offset", "axis1", "axis2"), cast=Cast.NONE, batch=Batch.NONE,
            domain=_MATRIX, note="NumPy's default axes are the first two; TF's diag_part takes the last two"),
    Pattern("numpy.meshgrid", examples=("np.meshgrid(a, b)", "np.meshgrid(a, b, a, indexing='ij', sparse=True)"),
            lower=_meshgrid, handles=("xi", "indexing", "sparse", "copy"), arrays=("xi",), cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(1, 2), grad=False),
            note="indexing='xy' (the default) puts the second input along the first axis; "
                 "(gradients hold but the first output does not depend on the other inputs)"),
    Pattern("numpy.copy", examples=("np.copy(a)",), lower=_copy, handles=("a", "order"), cast=Cast.NONE,
            batch=Batch.ELEMENTWISE, domain=Domain(dtypes=ALL)),
    Pattern("numpy.append", examples=("np.append(a, b)", "np.append(a, [1, 2], axis=0)"),
            lower=_append, handles=("arr", "values", "axis"), arrays=("arr", "values"), cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2)),
            note="axis=None (the default) flattens both inputs"),
    Pattern("numpy.rot90", examples=("np.rot90(a)", "np.rot90(a, 2)", "np.rot90(a, -1, axes=(1, 2))"),
            lower=_view(_rot90), handles=("m", "k", "axes"), cast=Cast.NONE, batch=Batch.NONE, domain=_MATRIX),
    Pattern("numpy.shape", examples=("np.zeros(np.shape(a))",), lower=_shape_attr, handles=("a",),
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(1, 2, 3), grad=False)),
    Pattern("numpy.ndim", examples=("np.ndim(a) + 0",), lower=_ndim, handles=("a",), cast=Cast.NONE,
            batch=Batch.NONE, domain=Domain(dtypes=ALL, ranks=(0, 1, 2, 3), grad=False)),
    Pattern("numpy.size", examples=("a * np.size(a)", "a * np.size(a, -1)"), lower=_size, handles=("a", "axis"),
            cast=Cast.NONE, batch=Batch.NONE, domain=Domain(ranks=(1, 2))),
    Pattern("ndarray.copy", examples=("a.copy()",), lower=_copy, signature="(self, order='C')",
            handles=("order",), cast=Cast.NONE, batch=Batch.ELEMENTWISE, domain=Domain(dtypes=ALL)),
    _view_template("ndarray.mT", "tf.linalg.matrix_transpose(self)", examples=("a.mT",), signature="attribute",
                   cast=Cast.NONE, batch=Batch.MATRIX, domain=_MATRIX),
)

PATTERNS = PATTERNS + tuple(
    next(p for p in PATTERNS if p.numpy == f"numpy.{name}").as_method(name, (example,))
    for name, example in (("swapaxes", "a.swapaxes(0, -1)"), ("repeat", "a.repeat(2, axis=0)"),
                          ("diagonal", "a.diagonal()"))
)
