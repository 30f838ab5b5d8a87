"""Lists built in loops (`out.append(g(row))`, then np.array/np.stack/np.concatenate) and
loops that label under one mask per step become batched TF: the emitted code, values against
NumPy over dtypes and ranks (eagerly, a sample under tf.function and in Dataset.map), and the
loops that must stay loops, with their reasons."""
import textwrap

import numpy as np
import pytest

from program_runs import load_module, mismatch, outcome, variants_of
from rewriter import facts as F
from rewriter.function import Refusal, convert_function
from rewriter.lowered import Inconsistent
from rewriter.pipeline import rewrite_source


def _converted(body: str, **facts) -> str:
    source = "import numpy as np\n\n\n" + textwrap.dedent(body)
    return convert_function(source, "f", facts).text


def test_append_loops_become_one_batched_computation_stacked_where_numpy_stacks():
    text = _converted("""\
        def f(x, y):
            norms = []
            centred = []
            for row in x:
                m = row.mean()
                norms.append(np.sqrt(np.sum(row ** 2)))
                centred.append(row - m)
            pairs = []
            for u, v in zip(x, y):
                pairs.append(u * v)
            a = np.array(norms, dtype=np.float32)
            b = np.stack(centred, axis=-1)
            c = np.concatenate(pairs)
            return a, b, c
        """, x=F.array("float64", 2, fresh=False), y=F.array("float64", 2, fresh=False))
    assert text == textwrap.dedent("""\
        def f(x, y):
            m = tf.reduce_mean(x, axis=[-1])
            norms = tf.sqrt(tf.reduce_sum(tf.square(x), axis=[-1]))
            centred = x - tf.expand_dims(m, -1)
            steps = tf.minimum(tf.shape(x)[0], tf.shape(y)[0])
            pairs = x[:steps] * y[:steps]
            a = tf.cast(norms, tf.float32)
            b = tf.transpose(centred)
            c = tf.reshape(pairs, [-1])
            return a, b, c
        """)


def test_a_fixed_table_of_tuples_becomes_one_tensor():
    text = _converted("""\
        def f(img):
            masks = []
            for color in [(0, 0, 0), (255, 0, 0)]:
                masks.append(np.all(img == np.array(color), axis=-1))
            return np.stack(masks, axis=-1)
        """, img=F.array("uint8", 3, fresh=False))
    assert "colors = tf.constant([(0, 0, 0), (255, 0, 0)], tf.int64)" in text  # np.array((0, 0, 0)) is int64
    assert "for " not in text and "tf.transpose(masks, [1, 2, 0])" in text


def test_masked_labelling_loop_keeps_the_last_step_that_matches():
    text = _converted("""\
        def f(img, palette):
            mask = np.zeros(img.shape[:2], dtype=np.int64)
            for k, color in enumerate(palette):
                mask[np.all(img == color, axis=-1)] = k
            return mask
        """, img=F.array("uint8", 3, fresh=False), palette=F.array("uint8", 2, fresh=False))
    assert "for " not in text and "tf.where(last >= 0, tf.cast(last, tf.int64), mask)" in text


FUNCTIONS = {
    "row_norms_by_index": ("""\
        def f(x):
            out = []
            for i in range(len(x)):
                out.append(np.sqrt(np.sum(x[i] ** 2)))
            return np.array(out, dtype=np.float32)
        """, np.arange(12.0).reshape(4, 3) - 5),
    "centred_rows_stacked_last": ("""\
        def f(x):
            out = []
            for row in x:
                m = row.mean()
                out.append(row - m)
            return np.stack(out, axis=-1)
        """, np.arange(12.0).reshape(4, 3) * 1.5 - 4),
    "enumerate_with_index_reads": ("""\
        def f(x):
            out = []
            for i, row in enumerate(x):
                out.append(row * 2 + x[i])
            return np.asarray(out)
        """, np.arange(6.0).reshape(3, 2) - 2),
    "zip_of_shifted_frames": ("""\
        def f(x):
            diffs = []
            for cur, prev in zip(x[1:], x[:-1]):
                diffs.append(np.abs(cur - prev))
            return np.array(diffs)
        """, np.array([[1.0, 4.0], [3.0, -2.0], [0.5, 0.0]])),
    "concatenate_and_two_lists": ("""\
        def f(x):
            lo = []
            hi = []
            for row in x:
                lo.append(row.min())
                hi.append(row.max())
            return np.concatenate([np.array(hi) - np.array(lo), np.array(hi)])
        """, np.array([[1.0, 4.0, 2.0], [3.0, -2.0, 7.0]])),
    "class_masks_from_a_table": ("""\
        def f(x):
            masks = []
            for color in [(0, 0, 0), (1, 0, 0), (0, 1, 0)]:
                masks.append(np.all(x == np.array(color), axis=-1))
            return np.stack(masks, axis=-1).astype(np.float32)
        """, np.array([[[0.0, 0, 0], [1, 0, 0]], [[0, 1, 0], [1, 1, 1]]])),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_values_match_numpy_over_dtypes_and_ranks(tf, name):
    body, sample = FUNCTIONS[name]
    source = "import numpy as np\n\n\n" + textwrap.dedent(body)
    original = {"np": np}
    exec(source, original)
    problems, converted = [], 0
    for label, value in [*variants_of(sample), ("one row", sample[:1]), ("no rows", sample[:0])]:
        try:
            text = convert_function(source, "f", {"x": F.array(value.dtype, value.ndim, fresh=False)}).text
        except (Refusal, Inconsistent):  # left as NumPy, or NumPy itself rejects this input
            continue
        converted += 1
        namespace = {"tf": tf, "np": np}
        exec(text, namespace)
        want, got = outcome(original["f"], value), outcome(namespace["f"], tf.constant(value))
        if want[0] == got[0] == "ok" and want[1].size == 0:
            # documented: NumPy's empty list is float64 of shape (0,); the rows keep their own
            assert got[1].shape[0] == 0 or got[1].size == 0, (label, got)
            continue
        problem = mismatch(want, got, 1e-6)
        if problem:
            problems.append(f"{label}: {problem}\n{text}")
    assert converted >= 8, f"only {converted} variants converted"
    assert not problems, problems


def test_empty_rows_are_exact_for_scalars_stacked_with_a_dtype(tf):
    body, _ = FUNCTIONS["row_norms_by_index"]
    text = _converted(body, x=F.array("float64", 2, fresh=False))
    namespace = {"tf": tf, "np": np}
    exec(text, namespace)
    got = namespace["f"](tf.zeros((0, 3), tf.float64)).numpy()
    original = {"np": np}
    exec("import numpy as np\n\n\n" + textwrap.dedent(body), original)
    want = original["f"](np.zeros((0, 3)))
    assert got.dtype == want.dtype == np.float32 and got.shape == want.shape == (0,)


def test_zip_of_unequal_lengths_stops_at_the_shorter_like_python(tf):
    text = _converted("""\
        def f(a, b):
            out = []
            for u, v in zip(a, b):
                out.append(u - v)
            return np.stack(out)
        """, a=F.array("float32", 2, fresh=False), b=F.array("float32", 2, fresh=False))
    namespace = {"tf": tf, "np": np}
    exec(text, namespace)
    a, b = np.arange(15, dtype=np.float32).reshape(5, 3), np.ones((3, 3), np.float32)
    np.testing.assert_array_equal(namespace["f"](tf.constant(a), tf.constant(b)).numpy(),
                                  np.stack([u - v for u, v in zip(a, b)]))


REFUSED_TEMPLATE = """\
def f(x):
    out = []
    {before}
    for {header}:
        {body}
    {after}
"""


@pytest.mark.parametrize("header, body, after, reason", [
    ("row in x", "out.append(row * len(out))", "return np.array(out)", "is read or changed other than by"),
    ("row in x", "out.append(row * 2)", "return np.array(out) + out[-1]", "is read or changed other than by"),
    ("row in x", "out.append(row * 2)", "out.pop(); return np.array(out)", "is read or changed other than by"),
    ("row in x", "out.append(row * 2)", "print(out); return np.array(out)", "is read or changed other than by"),
    ("row in x", "out.append(row); out.append(row * 2)", "return np.array(out)", "appended to twice per step"),
    ("row in x", "out.append(row - m); m = row.mean()", "return np.array(out)", "`m` carries from step to step"),
    ("row in x", "out.append(row * 2)", "return np.array(out), row", "`row` is read after the loop"),
    ("color in [(0, 0, 0), (255, 0, 0)]", "out.append(x[..., 0] == color[0])", "return np.array(out)",
     "is a tuple of Python numbers used as one here"),
    ("s in [0.5, 2.0]", "out.append(x * s)", "return np.array(out)", "a loop over Python numbers is not vectorized"),
    ("row in x", "out.append(row.astype(np.float64))", "return np.stack(out, dtype=np.int32)", "casting='same_kind'"),
])
def test_lists_used_otherwise_keep_the_loop_with_a_reason(header, body, after, reason):
    source = REFUSED_TEMPLATE.format(before="m = 0.0", header=header, body=body.replace("; ", "\n        "),
                                     after=after.replace("; ", "\n    "))
    with pytest.raises(Refusal) as refused:
        _converted(source, x=F.array("float32", 2, fresh=False))
    assert reason in refused.value.reason, refused.value.reason


def test_labelling_into_a_narrow_integer_output_stays_a_loop():
    with pytest.raises(Refusal, match="enumerate"):  # NumPy raises where the index overflows uint8
        _converted("""\
            def f(img, palette):
                mask = np.zeros(img.shape[:2], dtype=np.uint8)
                for k, color in enumerate(palette):
                    mask[np.all(img == color, axis=-1)] = k
                return mask
            """, img=F.array("uint8", 3, fresh=False), palette=F.array("uint8", 2, fresh=False))


PROGRAM = """\
import numpy as np
import tensorflow as tf

PALETTE = [(0, 0, 0), (200, 30, 30), (30, 200, 30)]


def _features(frames):
    feats = []
    for frame in frames:
        feats.append(np.abs(np.diff(frame)) / (frame.std() + 1.0))
    return np.array(feats, dtype=np.float32)


def features(frames):
    return tf.numpy_function(_features, [frames], tf.float32)


def _one_hot_masks(img):
    masks = []
    for color in PALETTE:
        masks.append(np.all(img == np.array(color), axis=-1))
    return np.stack(masks, axis=-1).astype(np.float32)


def one_hot_masks(img):
    return tf.numpy_function(_one_hot_masks, [img], tf.float32)
"""


@pytest.fixture(scope="module")
def program_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("append_loops")
    result = rewrite_source(PROGRAM, "append_program.py")
    assert [c.status for c in result.conversions] == ["converted", "converted"], \
        [c.reason for c in result.conversions]
    assert rewrite_source(result.new, "append_program.py").new == result.new
    return load_module(folder, PROGRAM), load_module(folder, result.new)


def test_program_under_tf_function_and_in_dataset_map(tf, program_pair):
    original, rewritten = program_pair
    frames = (np.random.default_rng(3).standard_normal((5, 16)) * 100).astype(np.int16)
    img = np.array([[[0, 0, 0], [200, 30, 30]], [[30, 200, 30], [9, 9, 9]]], np.uint8)
    for function, value in (("features", frames), ("features", frames.astype(np.float32)),
                            ("one_hot_masks", img)):
        for run in (lambda f: f, tf.function):
            want = outcome(run(getattr(original, function)), value)
            got = outcome(run(getattr(rewritten, function)), value)
            assert not mismatch(want, got, 1e-5), (function, value.dtype, want, got)
    batch = np.stack([img, img[::-1]])

    def mapped(module):
        return np.stack([m.numpy() for m in tf.data.Dataset.from_tensor_slices(batch).map(module.one_hot_masks)])

    np.testing.assert_array_equal(mapped(rewritten), mapped(original))
