"""Loops that write single elements at computed positions (YOLO grid targets) become one
`scatter_last_writes`: the same target as the loop, duplicates included (the loop's last write
wins), for every dtype the boxes come in, no boxes, one box; eagerly and under tf.function."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from program_runs import load_rewritten, mismatch, outcome
from rewriter.pipeline import rewrite_source

CORPUS = Path(__file__).parent.parent / "corpus" / "loop_yolo_target_building.py"
TARGETS = CORPUS.read_text().replace("GRID = 13", "GRID = 4").replace("NUM_CLASSES = 20", "NUM_CLASSES = 3")
"""The corpus program on a 4 x 4 grid of 3 classes: boxes share cells more often."""


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    (trio,) = load_rewritten(tmp_path_factory.mktemp("scatter"), {"targets": TARGETS}).values()
    return trio


def _boxes(batch, count, seed=0):
    """Boxes with many sharing a cell, padding (w <= 0, NaN), negative centres (NumPy wraps
    them to the last row or column) and classes from -3 (written over the box's w and h) up."""
    rng = np.random.default_rng(seed)
    boxes = np.stack([rng.integers(-3, 3, (batch, count)),
                      rng.choice([0.1, 0.3, 0.33, 0.9, -0.2, 1.5], (batch, count)),
                      rng.choice([0.05, 0.3, 0.31, 0.7, -0.1], (batch, count)),
                      rng.choice([0.5, 0.25, 0.0, -1.0, np.nan], (batch, count)),
                      rng.choice([0.5, 0.2, 0.75], (batch, count))], axis=-1)
    return boxes


def test_the_yolo_loop_becomes_one_scatter(targets):
    _, _, result = targets
    assert [c.status for c in result.conversions] == ["converted"], result.conversions[0].reason
    rewritten = result.new.split("def build_targets_tf", 1)[1].split("\ndef ", 1)[0]  # (the original stays)
    assert "for b in range" not in rewritten and "scatter_last_writes(" in rewritten
    assert "tf.unstack(boxes, num=5, axis=-1)" in result.new and "w <= 0," in result.new
    assert rewrite_source(result.new, "again.py").new == result.new


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "float16"])
@pytest.mark.parametrize("batch, count", [(6, 9), (1, 1), (0, 4), (3, 0)])
def test_targets_match_the_loop_with_duplicate_cells(tf, targets, dtype, batch, count):
    original, rewritten, _ = targets
    boxes = _boxes(batch, count, seed=batch * 10 + count)
    if np.dtype(dtype).kind == "i":
        boxes[..., 1:] = np.nan_to_num(boxes[..., 1:] * 4)  # whole cells
    boxes = boxes.astype(dtype)
    eager = outcome(original.build_targets, boxes), outcome(rewritten.build_targets_tf, tf.constant(boxes))
    traced = outcome(original.program, boxes), outcome(rewritten.program, boxes)
    for want, got in (eager, traced):
        assert want[0] == "ok" and not mismatch(want, got, rtol=0), (want, got)
        np.testing.assert_array_equal(got[1], want[1])


def test_the_last_write_to_a_cell_wins_as_in_the_loop(tf, targets):
    original, rewritten, _ = targets
    # three boxes in one cell: the last one's coordinates stay, every class is marked, and a
    # class of -1 writes 1.0 over channel 4 (h) after the coordinates were written
    boxes = np.array([[[0, 0.1, 0.1, 0.5, 0.5], [2, 0.2, 0.2, 0.25, 0.75], [-1, 0.15, 0.05, 0.1, 0.2]]], np.float32)
    want, got = original.build_targets(boxes), rewritten.build_targets_tf(tf.constant(boxes)).numpy()
    np.testing.assert_array_equal(got, want)
    assert got[0, 0, 0, 4] == 1.0 and got[0, 0, 0, 3] == np.float32(0.1) and got[0, 0, 0, 7] == 1.0


def test_inputs_the_loop_rejects_stay_rejected(tf, targets):
    original, rewritten, _ = targets
    boxes = _boxes(2, 3)
    boxes[1, 2] = [9, 0.5, 0.5, 0.5, 0.5]  # class 9: past the last channel
    assert outcome(original.program, boxes)[0] == "raised"
    assert outcome(rewritten.program, boxes)[0] == "raised"


LEFT = {
    "a write before the skip": ("target[b, 0, 0, 0] = w\n", "if w <= 0:\n    continue\n"),
    "a value carried from the step before": ("col = col + 1\n", ""),
    "a read of the output": ("target[b, 0, 0, 1] = target[b, 0, 0, 0]\n", ""),
    "a float index": ("target[b, 0, 0, cx] = 1.0\n", ""),
    "fewer indices than axes": ("target[b, 0, 0] = 1.0\n", ""),
    "a slice with a step": ("target[b, 0, 0, 0:4:2] = [w, h]\n", ""),
}


@pytest.mark.parametrize("name", LEFT)
def test_other_bodies_are_not_taken_for_the_form(name):
    body, after = LEFT[name]
    source = ("import numpy as np\nimport tensorflow as tf\n\n\ndef f(boxes):\n    col = 0\n"
              "    target = np.zeros((len(boxes), 4, 4, 8), np.float32)\n"
              "    for b in range(len(boxes)):\n        for cls, cx, cy, w, h in boxes[b]:\n"
              + textwrap.indent(body + after, " " * 12) + "    return target\n\n\n"
              "def program(boxes):\n    # rewriter: args=boxes:float32[None,None,5]\n"
              "    return tf.numpy_function(f, [boxes], tf.float32)\n")
    result = rewrite_source(source, "left.py")
    assert "scatter_last_writes" not in result.new, result.new


def _loop_writes(out, writes, skipped):
    """What scatter_last_writes stands for: the loop, step by step in order, each write in turn."""
    out = out.copy()
    skipped = np.asarray(skipped)
    for step in np.ndindex(skipped.shape):
        if skipped[step]:
            continue
        for index, value in writes:
            at = tuple(int(np.broadcast_to(i, skipped.shape)[step]) for i in index)
            out[at] = np.broadcast_to(value, skipped.shape)[step]
    return out


def _helper_case(dtype, steps, seed, rows=False):
    """An output of `dtype`, writes over `steps` with many duplicate and negative indices (two
    writes sharing their first entries, as the YOLO loop's do), some steps skipped. `rows`: all
    writes share all entries but the last (written row by row), the third one's last entry
    varying, often onto the first two's element in the same step."""
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 5, (3, 3, 4, 2)).astype(dtype)
    row, col = rng.integers(-3, 3, steps), rng.integers(-4, 4, steps)
    first = rng.integers(0, 3, steps[:1])[:, None] if len(steps) == 2 else rng.integers(0, 3, steps)
    values = rng.integers(-9, 9, steps).astype(dtype)
    third = ([first, row, col, rng.integers(-2, 2, steps)], values[::-1]) if rows else ([first, 1, col, 1], values)
    writes = [([first, row, col, 0], values), ([first, row, col, -1], 7), third]
    return out, writes, rng.random(steps) < 0.3


def _as_tensors(tf, writes):
    """The writes with tensors for arrays, an array shared by several writes one tensor (as in
    the rewritten loop, where `b, row, col` are one tensor each)."""
    tensors = {}

    def tensor(array):
        return tensors.setdefault(id(array), tf.constant(array)) if isinstance(array, np.ndarray) else array

    return [([tensor(i) for i in index], tf.constant(value)) for index, value in writes]


@pytest.mark.parametrize("rows", [False, True], ids=["by element", "by row"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("steps", [(5, 6), (40,), (0, 3), (2, 0), (1, 1)])
def test_scatter_last_writes_is_the_loop(tf, dtype, steps, rows):
    from rewriter.tf_helpers import scatter_last_writes

    out, writes, skipped = _helper_case(dtype, steps, seed=sum(steps), rows=rows)
    want = _loop_writes(out, writes, skipped)
    as_tensors = _as_tensors(tf, writes)
    eager = scatter_last_writes(tf.constant(out), as_tensors, tf.constant(skipped))
    traced = tf.function(lambda out: scatter_last_writes(out, as_tensors, tf.constant(skipped)))(tf.constant(out))
    # an output of unknown shape: int64 positions, not int32
    unknown = tf.function(lambda out: scatter_last_writes(out, as_tensors, tf.constant(skipped)),
                          input_signature=[tf.TensorSpec(None, tf.as_dtype(dtype))])(tf.constant(out))
    for got in (eager, traced, unknown):
        assert got.dtype == tf.as_dtype(want.dtype)
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("rows", [False, True], ids=["by element", "by row"])
def test_scatter_last_writes_rejects_an_index_the_loop_rejects(tf, rows):
    from rewriter.tf_helpers import scatter_last_writes

    out = np.zeros((2, 3), np.float32)
    first = tf.constant([0, 1])
    # the second step's index is out of range: past the end or before the start (in a flat
    # position both would alias a valid cell), on the last axis or on the shared first one
    cases = [[([first, 0], 2.0), ([first, tf.constant([1, bad])], 1.0)] for bad in (3, -4)]
    for bad in (2, -3):
        shared = tf.constant([0, bad])
        cases.append([([shared, 0], 2.0), ([shared, 1], 1.0)])
    skipped_case = [([first, 0], 2.0), ([first, tf.constant([1, 7])], 1.0)]
    for writes in (*cases, skipped_case):
        if not rows:  # a write with other first entries: the writes go element by element
            writes.append(([tf.constant([1, 1]), 2], 3.0))
        as_numpy = [([np.asarray(i) for i in index], value) for index, value in writes]
        if writes is skipped_case:
            got = scatter_last_writes(tf.constant(out), writes, tf.constant([False, True]))
            np.testing.assert_array_equal(got.numpy(), _loop_writes(out, as_numpy, np.array([False, True])))
            continue
        with pytest.raises(IndexError):
            _loop_writes(out, as_numpy, np.array([False, False]))
        with pytest.raises(tf.errors.InvalidArgumentError):
            scatter_last_writes(tf.constant(out), writes, tf.constant([False, False]))


@pytest.mark.parametrize("rows", [False, True], ids=["by element", "by row"])
def test_scatter_last_writes_gradient_reaches_the_winning_writes_and_the_untouched_cells(tf, rows):
    from rewriter.tf_helpers import scatter_last_writes

    out, writes, skipped = _helper_case("float64", (5, 6), seed=3, rows=rows)
    values, out = tf.constant(writes[0][1]), tf.constant(out)
    weights = np.random.default_rng(4).random(out.shape)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([values, out])
        result = scatter_last_writes(out, [(writes[0][0], values), *writes[1:]], tf.constant(skipped))
        total = tf.reduce_sum(result * weights)
    d_values, d_out = tape.gradient(total, [values, out])
    # the loop's derivative: a write's value counts where it is the last write to its cell
    step_of = _loop_writes(np.full(out.shape, -1.0), [(writes[0][0], np.arange(30.0).reshape(5, 6)),
                                                     *[(index, -1.0) for index, _ in writes[1:]]], skipped)
    want_values = np.zeros(30)
    np.add.at(want_values, step_of[step_of >= 0].astype(int), weights[step_of >= 0])
    np.testing.assert_allclose(d_values.numpy().ravel(), want_values)
    untouched = _loop_writes(np.ones(out.shape), [(index, 0.0) for index, _ in writes], skipped)
    np.testing.assert_allclose(d_out.numpy(), weights * untouched)


@pytest.mark.parametrize("rows", [False, True], ids=["by element", "by row"])
def test_scatter_last_writes_under_xla_is_the_loop(tf, rows):
    from rewriter.tf_helpers import scatter_last_writes

    for seed in range(3):
        out, writes, skipped = _helper_case("float32", (40,), seed, rows=rows)
        as_tensors = _as_tensors(tf, writes)
        compiled = tf.function(lambda out: scatter_last_writes(out, as_tensors, tf.constant(skipped)),
                               jit_compile=True)
        got = compiled(tf.constant(out))
        np.testing.assert_array_equal(got.numpy(), _loop_writes(out, writes, skipped))
