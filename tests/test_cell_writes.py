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
