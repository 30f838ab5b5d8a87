"""Loops writing at positions read from data become one scatter, exactly as NumPy runs them:
duplicate positions add up under `+=`, negative positions count from the end, and loops a
scatter cannot reproduce (the last of several `=` writes, values read back) stay NumPy."""
import textwrap

import numpy as np
import pytest

from program_runs import load_rewritten, outcome, problems, through_dataset_map
from rewriter.pipeline import rewrite_source

INDEX_DTYPES = ("uint8", "int16", "int32", "int64")

# name -> (the NumPy function, Tout, input samples: duplicates, one step, no steps)
PROGRAMS = {
    "class-counts": ("""\
        def f(labels):
            counts = np.zeros(6, np.int64)
            for label in labels:
                counts[label] += 1
            return counts
        """, "tf.int64", [(np.array([0, 3, 3, -1, 5, 3]),), (np.array([2]),), (np.array([], int),)]),
    "add-values-at-positions": ("""\
        def f(idx, v):
            out = np.zeros(5, np.float32)
            for i in range(len(idx)):
                out[idx[i]] += v[i]
            return out
        """, "tf.float32", [(np.array([1, 4, 1, 1, -2]), np.array([0.5, 2.0, 1.0, 3.0, 4.0])),
                            (np.array([0]), np.array([7.0])), (np.array([], int), np.array([]))]),
    "pair-grid": ("""\
        def f(pairs, w):
            grid = np.zeros((3, 4))
            for i, j in pairs:
                grid[i, j] += w
            return grid
        """, "tf.float64", [(np.array([[0, 1], [2, 3], [0, 1], [-1, 0]]), np.array(0.25)),
                            (np.array([[1, 1]]), np.array(2.0)), (np.zeros((0, 2), int), np.array(1.0))]),
    "one-hot-by-enumerate": ("""\
        def f(labels):
            onehot = np.zeros((len(labels), 4), np.float32)
            for i, label in enumerate(labels):
                onehot[i, label] = 1
            return onehot
        """, "tf.float32", [(np.array([3, 0, 3, -4]),), (np.array([1]),), (np.array([], int),)]),
    "subtract-rows": ("""\
        def f(idx, rows):
            out = np.zeros((4, 3))
            for i in range(len(idx)):
                out[idx[i]] -= rows[i]
            return out
        """, "tf.float64", [(np.array([2, 0, 2]), np.arange(9.0).reshape(3, 3)),
                            (np.array([3]), np.ones((1, 1))), (np.array([], int), np.zeros((0, 3)))]),
    "uint8-counts-wrap": ("""\
        def f(labels):
            counts = np.zeros(3, np.uint8)
            for i in range(len(labels)):
                counts[labels[i]] += 1
            return counts
        """, "tf.uint8", [(np.array([1] * 300 + [2]),), (np.array([0]),), (np.array([], int),)]),
}
VALUE_DTYPES = ("uint8", "int16", "int64", "float32", "float64", "bool")


def _inputs(name):
    """Every sample with its positions in each index dtype, and its values (if any) in each
    value dtype."""
    for sample in PROGRAMS[name][2]:
        for index_dtype in INDEX_DTYPES:
            positions = sample[0].astype(index_dtype)
            for value_dtype in VALUE_DTYPES if len(sample) > 1 else (None,):
                values = () if value_dtype is None else (sample[1].astype(value_dtype),)
                yield f"{index_dtype}/{value_dtype}, {len(positions)} steps", (positions, *values)


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """name -> (original module, rewritten module, rewrite result)."""
    folder = tmp_path_factory.mktemp("scatter_loops")
    out = {}
    for name, (body, tout, _) in PROGRAMS.items():
        params = body.split("(", 1)[1].split(")", 1)[0]
        text = f"import numpy as np\nimport tensorflow as tf\n\n\n{textwrap.dedent(body)}\n\n" \
               f"def program({params}):\n    return tf.numpy_function(f, [{params}], {tout})\n"
        out[name] = load_rewritten(folder, {name: text})[name]
    return out


@pytest.mark.parametrize("name", PROGRAMS)
def test_loop_becomes_one_scatter_and_matches_numpy_eagerly(programs, name):
    original, rewritten, result = programs[name]
    assert [c.status for c in result.conversions] == ["converted"], result.conversions[0].reason
    rewrite = result.new.split("def f_tf(")[1].split("def program(")[0]
    assert "tf.tensor_scatter_nd_" in rewrite and "for " not in rewrite
    assert not problems(original.program, rewritten.program, _inputs(name))


@pytest.mark.parametrize("name", ["class-counts", "pair-grid", "one-hot-by-enumerate"])
def test_scatter_matches_numpy_under_tf_function(tf, programs, name):
    original, rewritten, _ = programs[name]
    assert not problems(original.program, rewritten.program, _inputs(name), tf.function)


def test_class_counts_in_dataset_map(tf, programs):
    original, rewritten, _ = programs["class-counts"]
    labels = np.random.default_rng(4).integers(0, 6, (5, 40)).astype(np.int32)
    want, got = (through_dataset_map(tf, module.program, labels) for module in (original, rewritten))
    assert got.dtype == want.dtype == np.int64 and np.array_equal(got, want)


def test_a_row_of_unpacked_pairs_of_another_length_raises_as_numpy_does(tf, programs):
    _, rewritten, _ = programs["pair-grid"]
    for call in (rewritten.program, tf.function(rewritten.program)):
        assert outcome(call, np.array([[0, 1, 2]]), np.array(1.0))[0] == "raised"


LEFT = {
    "last-write-wins": """\
        def f(idx):
            out = np.zeros(5)
            for i in range(len(idx)):
                out[idx[i]] = i
            return out
        """,
    "read-back": """\
        def f(idx):
            out = np.zeros(5)
            for i in range(len(idx)):
                out[idx[i]] += out[idx[i] - 1] + 1
            return out
        """,
    "float-into-int-truncates-per-step": """\
        def f(idx):
            out = np.zeros(5, np.int64)
            for i in range(len(idx)):
                out[idx[i]] += 0.5
            return out.astype(np.float64)
        """,
    "slice-at-data-positions": """\
        def f(idx):
            out = np.zeros(5)
            for i in range(len(idx)):
                out[idx[i]:] = 1.0
            return out
        """,
    "loop-variable-read-after": """\
        def f(idx):
            out = np.zeros(5)
            for i in range(len(idx)):
                out[idx[i]] += 1.0
            return out + i
        """,
    "bool-output": """\
        def f(idx):
            out = np.zeros(5, bool)
            for i in range(len(idx)):
                out[idx[i]] += True
            return out.astype(np.float64)
        """,
}


@pytest.mark.parametrize("body", LEFT.values(), ids=LEFT.keys())
def test_loops_a_scatter_cannot_reproduce_are_left(body):
    text = f"import numpy as np\nimport tensorflow as tf\n\n\n{textwrap.dedent(body)}\n\n" \
           "def program(idx):\n    return tf.numpy_function(f, [idx], tf.float64)  # rewriter: args=int64[None]\n"
    result = rewrite_source(text, "program.py")  # positions read from data: integers (a bool row is a mask)
    assert [c.status for c in result.conversions] == ["left"]
    assert result.conversions[0].code == "RW209", result.conversions[0].reason
    assert result.new == text
