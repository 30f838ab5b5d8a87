"""Semantic pitfalls of the shape family: each test runs the rewrite through the engine on
inputs that expose a difference between NumPy and the obvious TF spelling, checks the rewrite
against NumPy, and checks that the obvious (naive) TF spelling gives a different answer (or
raises), so the test fails if the pattern is simplified to it."""
import numpy as np
import pytest

from rewriter import facts as F
from rewrite_and_run import rewrite_and_run
from rewriter.function import Inconsistent, Refusal, convert_function

NAMES = ("a", "b", "c")


def _source(body, names):
    if "\n" not in body:
        body = f"return {body}"
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return f"import numpy as np\n\n\ndef f({', '.join(names)}):\n{lines}\n"


def _convert(body, *arrays):
    names = NAMES[: len(arrays)]
    facts = {n: F.array(a.dtype, a.ndim, fresh=False) for n, a in zip(names, arrays)}
    return convert_function(_source(body, names), "f", facts)


def _run_numpy(body, *arrays):
    namespace = {"np": np}
    exec(_source(body, NAMES[: len(arrays)]), namespace)
    return namespace["f"](*arrays)


def _run_rewrite(tf, body, *arrays):
    converted = _convert(body, *arrays)
    namespace = {"tf": tf, "np": np}
    exec(converted.text, namespace)
    return namespace["f"](*[tf.constant(a) for a in arrays]), converted.text


def _as_list(value):
    return [np.asarray(v) for v in value] if isinstance(value, (list, tuple)) else [np.asarray(value)]


def _same(got, want) -> bool:
    got, want = _as_list(got), _as_list(want)
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if g.dtype != w.dtype or g.shape != w.shape:
            return False
        if not np.array_equal(g, w, equal_nan=g.dtype.kind in "fc"):
            return False
    return True


def check(tf, body, *arrays):
    """The rewrite of `body` gives NumPy's values, dtype and shape; returns NumPy's result."""
    want = _run_numpy(body, *arrays)
    got, text = _run_rewrite(tf, body, *arrays)
    assert _same(got, want), f"{body}\n{text}\ngot {got}\nwant {want}"
    return want


def naive_differs(naive, want) -> bool:
    """Whether the naive TF spelling raises or gives another answer than NumPy's."""
    try:
        got = naive()
    except Exception:
        return True
    return not _same(got, want)


def test_column_stack_makes_1d_arrays_columns(tf):
    a, b = np.arange(3.0), np.arange(3.0, 6.0)
    want = check(tf, "np.column_stack([a, b])", a, b)
    assert want.shape == (3, 2)
    assert naive_differs(lambda: tf.concat([a, b], axis=-1), want)  # (6,): end to end


def test_hstack_of_1d_arrays_joins_on_axis_0(tf):
    a, b = np.arange(3), np.arange(4)
    want = check(tf, "np.hstack([a, b])", a, b)
    assert naive_differs(lambda: tf.concat([a, b], axis=1), want)


def test_tile_with_reps_shorter_than_ndim(tf):
    a = np.arange(6.0).reshape(2, 3)
    want = check(tf, "np.tile(a, 2)", a)
    assert want.shape == (2, 6)
    # Aligning reps from the left (the first axis) is the naive reading.
    assert naive_differs(lambda: tf.tile(a, [2, 1]), want)
    assert naive_differs(lambda: tf.tile(a, [2]), want)


def test_tile_with_reps_longer_than_ndim(tf):
    a = np.arange(3)
    want = check(tf, "np.tile(a, (2, 2))", a)
    assert want.shape == (2, 6)
    assert naive_differs(lambda: tf.tile(a, [2, 2]), want)


def test_repeat_with_an_array_of_repeats(tf):
    # tf.repeat itself agrees with np.repeat (axis=None flattens in both, counts broadcast);
    # the pitfalls are tf.tile (whole-array repetition) and NumPy's result on the engine's
    # stand-in arrays (length 2), which rejects three counts: the rank is given explicitly.
    a = np.arange(6).reshape(3, 2)
    want = check(tf, "np.repeat(a, [1, 0, 2], axis=0)", a)
    assert want.shape == (3, 2)
    assert naive_differs(lambda: tf.tile(a, [1, 1]), want)
    flat = check(tf, "np.repeat(a, 2)", a)
    assert flat.shape == (12,)
    assert naive_differs(lambda: tf.tile(tf.reshape(a, [-1]), [2]), flat)
    assert _same(tf.repeat(a, 2), flat)  # tf.repeat's axis=None flattens too


def test_pad_reflect_and_symmetric_wider_than_the_axis(tf):
    a = np.arange(1.0, 4.0)
    for mode, tf_mode in (("reflect", "REFLECT"), ("symmetric", "SYMMETRIC")):
        # TF's mode names mean NumPy's modes for narrow pads...
        narrow = check(tf, f"np.pad(a, 2, mode='{mode}')", a)
        assert _same(tf.pad(a, [[2, 2]], tf_mode), narrow)
        # ...but MirrorPad refuses pads as wide as the axis, which NumPy reflects repeatedly.
        wide = check(tf, f"np.pad(a, (7, 5), mode='{mode}')", a)
        assert naive_differs(lambda: tf.pad(a, [[7, 5]], tf_mode), wide)
    assert not _same(np.pad(a, 2, mode="reflect"), np.pad(a, 2, mode="symmetric"))


def test_pad_edge_and_wrap_on_2d(tf):
    a = np.arange(6, dtype=np.int16).reshape(2, 3)
    for mode in ("edge", "wrap"):
        want = check(tf, f"np.pad(a, ((3, 1), (0, 4)), mode='{mode}')", a)
        assert naive_differs(lambda: tf.pad(a, [[3, 1], [0, 4]], "SYMMETRIC"), want)


def test_pad_constant_is_cast_like_numpy(tf):
    a = np.array([1, 2, 3], dtype=np.int32)
    want = check(tf, "np.pad(a, 1, constant_values=7.9)", a)
    assert want.tolist() == [7, 1, 2, 3, 7]
    assert naive_differs(lambda: tf.pad(a, [[1, 1]], constant_values=8), want)
    u = np.array([1, 2], dtype=np.uint8)
    assert check(tf, "np.pad(a, 1, constant_values=-1)", u).tolist() == [255, 1, 2, 255]


def test_pad_constant_per_side_and_corners(tf):
    a = np.zeros((2, 2), dtype=np.float32)
    want = check(tf, "np.pad(a, 1, constant_values=((1, 2), (3, 4)))", a)
    assert want[0, 0] == 3  # the last axis's constant wins the corners
    first_axis_wins = tf.pad(tf.pad(a, [[0, 0], [1, 1]], constant_values=3.0), [[1, 1], [0, 0]], constant_values=1.0)
    assert naive_differs(lambda: first_axis_wins, want)


def test_pad_gradient_through_gather_modes(tf):
    a = np.arange(1.0, 5.0)
    converted = _convert("np.pad(a, (5, 2), mode='reflect')", a)
    namespace = {"tf": tf, "np": np}
    exec(converted.text, namespace)
    weights = np.arange(11.0)
    x = tf.Variable(a)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(namespace["f"](x) * weights)
    grad = tf.convert_to_tensor(tape.gradient(total, x)).numpy()
    eye = np.eye(4)
    numeric = [np.sum(np.pad(eye[i], (5, 2), mode="reflect") * weights) for i in range(4)]
    np.testing.assert_allclose(grad, numeric)


def test_diagonal_defaults_to_the_first_two_axes(tf):
    a = np.arange(24.0).reshape(2, 3, 4)
    want = check(tf, "np.diagonal(a)", a)
    assert want.shape == (4, 2)
    assert naive_differs(lambda: tf.linalg.diag_part(a), want)  # last two axes: (2, 3)
    method = check(tf, "a.diagonal(1, 0, 2)", a)
    assert naive_differs(lambda: tf.linalg.diag_part(a, k=1), method)


def test_diagonal_offset_outside_the_matrix_is_empty(tf):
    a = np.arange(12.0).reshape(3, 4)
    want = check(tf, "np.diag(a, 5)", a)
    assert want.shape == (0,)
    assert naive_differs(lambda: tf.linalg.diag_part(a, k=5), want)
    check(tf, "np.diagonal(a, -4)", a)


def test_triu_tril_on_1d_input_and_wide_offsets(tf):
    v = np.arange(1.0, 4.0)
    want = check(tf, "np.triu(a)", v)
    assert want.shape == (3, 3)
    assert naive_differs(lambda: tf.linalg.band_part(v, 0, -1), want)
    a = np.arange(12.0).reshape(3, 4)
    wide = check(tf, "np.triu(a, -5)", a)
    assert naive_differs(lambda: tf.linalg.band_part(a, 5, -1), wide)
    check(tf, "np.tril(a, 2)", a)
    check(tf, "np.tril(a, -1)", a)
    check(tf, "np.triu(a, 1)", np.zeros((0, 4)))


def test_meshgrid_defaults_to_xy_indexing(tf):
    x, y = np.arange(3.0), np.arange(4.0)
    want = check(tf, "np.meshgrid(a, b)", x, y)
    assert want[0].shape == (4, 3)
    assert naive_differs(lambda: tf.meshgrid(x, y, indexing="ij"), want)
    check(tf, "np.meshgrid(a, b, indexing='ij')", x, y)


def test_meshgrid_keeps_each_input_dtype(tf):
    x, y = np.arange(3), np.linspace(0.0, 1.0, 4)
    want = check(tf, "np.meshgrid(a, b)", x, y)
    assert [w.dtype for w in want] == [np.int64, np.float64]
    assert naive_differs(lambda: tf.meshgrid(x, y), want)  # TF needs one dtype
    check(tf, "np.meshgrid(a, b, indexing='ij', sparse=True)", x, y)


def test_flip_without_axis_flips_every_axis(tf):
    a = np.arange(6).reshape(2, 3)
    want = check(tf, "np.flip(a)", a)
    assert naive_differs(lambda: tf.reverse(a, [0]), want)


def test_roll_without_axis_rolls_the_flattened_array(tf):
    a = np.arange(6).reshape(2, 3)
    want = check(tf, "np.roll(a, 1)", a)
    assert want.tolist() == [[5, 0, 1], [2, 3, 4]]
    assert naive_differs(lambda: tf.roll(a, 1, axis=0), want)
    assert naive_differs(lambda: tf.roll(a, [1, 1], axis=[0, 1]), want)


def test_array_split_uneven_sections(tf):
    a = np.arange(7)
    want = check(tf, "np.array_split(a, 3)", a)
    assert [len(w) for w in want] == [3, 2, 2]
    assert naive_differs(lambda: tf.split(a, 3), want)
    assert naive_differs(lambda: tf.split(a, [2, 2, 3]), want)  # remainder last
    check(tf, "np.array_split(a, 5)", np.arange(3.0))  # more sections than elements
    check(tf, "np.split(a, [5, 2, -1])", a)  # decreasing and negative split points


def test_split_results_can_be_unpacked(tf):
    a = np.arange(12.0).reshape(3, 4)
    check(tf, "x, y = np.hsplit(a, 2)\nreturn y - x", a)


def test_squeeze_of_an_axis_longer_than_one_raises(tf):
    a = np.zeros((2, 3))
    with pytest.raises(ValueError):
        np.squeeze(a, axis=0)
    converted = _convert("np.squeeze(a, axis=0)", a)
    namespace = {"tf": tf, "np": np}
    exec(converted.text, namespace)
    with pytest.raises(tf.errors.InvalidArgumentError):
        namespace["f"](tf.constant(a))
    # Squeezing without the axis (or reshaping) would not raise.
    assert tf.squeeze(a).shape == (2, 3)


def test_concatenate_and_stack_of_one_array_are_refused(tf):
    a = np.arange(6).reshape(2, 3)
    want = np.concatenate(a)  # NumPy joins the rows
    assert naive_differs(lambda: tf.concat(a, 0), want) and naive_differs(lambda: tf.stack(a, axis=1), np.stack(a, 1))
    for body in ("np.concatenate(a)", "np.stack(a, axis=1)"):
        with pytest.raises(Refusal):
            _convert(body, a)


def test_concatenate_axis_none_and_append_flatten(tf):
    a, b = np.arange(6).reshape(2, 3), np.arange(3)
    want = check(tf, "np.concatenate([a, b], axis=None)", a, b)
    assert want.shape == (9,)
    appended = check(tf, "np.append(a, b)", a, b)
    assert naive_differs(lambda: tf.concat([a, b[np.newaxis]], 0), appended)
    check(tf, "np.append(a, 1.5)", a)  # a Python float makes the result float64


def test_expand_dims_with_a_tuple_of_axes(tf):
    a = np.arange(6.0).reshape(2, 3)
    want = check(tf, "np.expand_dims(a, (0, -1, 2))", a)
    assert want.shape == (1, 2, 1, 3, 1)
    assert naive_differs(lambda: tf.expand_dims(a, (0, -1, 2)), want)


def test_rollaxis_start_counts_before_the_move(tf):
    a = np.zeros((2, 3, 4))
    want = check(tf, "np.rollaxis(a, 0, 2)", a)
    assert want.shape == (3, 2, 4)
    assert naive_differs(lambda: tf.transpose(a, [1, 2, 0]), want)  # moveaxis(a, 0, 2)


def test_in_place_update_of_a_view_is_refused(tf):
    # NumPy's reshape is a view: updating it changes `x` too, which TF cannot mirror.
    body = "x = np.zeros(6)\ny = x.reshape(2, 3)\ny += 1\nreturn x"
    assert _run_numpy(body).tolist() == [1.0] * 6
    with pytest.raises(Refusal):
        convert_function(_source(body, ()), "f", {})


def test_a_copy_may_be_updated_in_place(tf):
    body = "x = np.zeros(6)\ny = np.tile(x, 1)\ny += 1\nreturn x + y"
    check(tf, body, )


def test_hsplit_of_a_0d_array_is_inconsistent(tf):
    with pytest.raises(Inconsistent):
        _convert("np.hsplit(a, 1)", np.zeros(()))


_IDENTITY_ROWS = [(dtype, expression) for dtype in ("int8", "int16", "int32", "int64", "uint8", "uint16")
                  for expression in ("np.eye(7)[labels]", "np.eye(7, dtype=np.float32)[labels]",
                                     "np.eye(labels.shape[0] + 7, dtype=np.int64)[labels]")
                  if not (dtype == "uint16" and "shape" in expression)]  # ndarray.shape: not for uint16


@pytest.mark.parametrize("dtype, expression", _IDENTITY_ROWS)
def test_rows_of_an_identity_are_one_hot_rows(tf, dtype, expression):
    """`np.eye(n)[labels]` becomes tf.one_hot (no n x n matrix): negative labels count from
    the end as in NumPy, for every integer dtype and label rank, n written or computed."""
    signed = np.dtype(dtype).kind == "i"
    for labels in (np.array([0, 3, 6, 1] + ([-1, -7] if signed else []), dtype),
                   np.array([[1, 2], [0, 5]], dtype), np.array([], dtype)):
        got, want, text = rewrite_and_run(tf, expression, labels=labels)
        assert "tf.one_hot(" in text and "tf.eye" not in text, text
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_identity_rows_with_columns_or_an_offset_stay_a_gather(tf):
    labels = np.array([0, 2, -1])
    for expression in ("np.eye(4, 5)[labels]", "np.eye(4, k=1)[labels]"):
        got, want, text = rewrite_and_run(tf, expression, labels=labels)
        assert "tf.one_hot(" not in text
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("body, shape", [
    ("a[::-1]", (4,)), ("a[::-1]", (0,)), ("a[:, ::-1]", (3, 4)), ("a[:, ::-1, :]", (2, 3, 4)),
    ("a[..., ::-1]", (2, 3, 4)), ("a[::-1, ..., ::-1]", (2, 3, 4)), ("a[::-1, ::-1]", (3, 4)),
    ("a[:, ::-1][:1]", (2, 0)), ("a[:, ::-1][:1]", (2, 3)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8, np.bool_, np.complex64])
def test_reversing_slices_become_tf_reverse(tf, body, shape, dtype):
    """`a[:, ::-1]` takes `tf.reverse` (several times faster on CPU than a strided slice with a
    negative step) and gives NumPy's values, dtype and shape."""
    a = (np.arange(int(np.prod(shape))).reshape(shape) % 3).astype(dtype)
    check(tf, body, a)
    assert "tf.reverse(" in _convert(body, a).text


@pytest.mark.parametrize("body", ["a[::-2]", "a[1::-1]", "a[:-1:-1]", "a[::1]"])
def test_other_steps_stay_strided_slices(tf, body):
    a = np.arange(6.0)
    check(tf, body, a)
    assert "tf.reverse(" not in _convert(body, a).text


def test_reversing_more_axes_than_the_array_has_is_numpys_error():
    with pytest.raises(Inconsistent):
        _convert("a[::-1, ::-1]", np.arange(3.0))
