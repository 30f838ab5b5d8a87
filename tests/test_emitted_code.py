"""The code `rewriter fix` emits, held to what a reviewer would merge (issue 14's bar).

On every corpus program, declared and with its declarations taken out, and on every
before/after example of the fix tests: no emitted line over the line length, no lambda the
user did not write, no non-trivial expression a block computes twice with the same values,
and no line off the file's indentation unit (`code_quality.measure`).
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from rewriter.code_quality import measure
from rewriter.pipeline import RewriteOptions, rewrite_source
from test_fix_sites import FIXES
from undeclared import strip_declarations

CORPUS = sorted(p for p in (Path(__file__).resolve().parent.parent / "corpus").glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_rewrites_read_like_hand_written_code(path: Path, declared):
    source = path.read_text()
    source = source if declared else strip_declarations(source)
    new = rewrite_source(source, path.name, RewriteOptions(line_length=88)).new
    assert measure(source, new).problems() == []


@pytest.mark.parametrize("before", [b for b, _ in FIXES.values()], ids=list(FIXES))
def test_fix_examples_read_like_hand_written_code(before):
    source = textwrap.dedent(before)
    new = rewrite_source(source, "example.py", RewriteOptions(line_length=88)).new
    assert measure(source, new).problems() == []


def test_the_measure_finds_what_it_is_for():
    """The measure is not blind: lowering's raw text fails each of its checks."""
    original = "import numpy as np\n\n\ndef f(x):\n  return np.sum(x)\n"
    raw = ("import numpy as np\n\n\ndef f(x):\n"
           "  y = (lambda m: m * tf.reduce_sum(x) + tf.reduce_sum(x))(tf.size(x))\n"
           "  if y:\n"
           "     y = y + 1\n"
           "  return tf.reduce_sum(x) + tf.reduce_sum(x) * 2 + y + tf.reduce_sum(x) + tf.reduce_sum(x) + tf.abs(y)\n")
    found = measure(original, raw)
    assert len(found.lambdas) == 1 and len(found.long_lines) == 1 and found.repeats and found.misindented
