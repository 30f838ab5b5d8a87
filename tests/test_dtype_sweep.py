"""The dtype sweep: every runnable corpus program, as shipped and with its declarations removed
(`undeclared.py`), is rewritten and run on its sample inputs in every dtype and in the ranks
around the sample's. Wherever the original runs, the rewrite must return the original's values,
dtypes and shapes (random programs: dtypes and shapes); it may not raise where the original ran.

The undeclared twins must also convert wherever the declared program converts (UNDECLARED_GAPS
lists, with the engine's reason, the ones that do not yet: strict xfails, so the list only
shrinks)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from program_runs import mismatch, outcome, variants_of
from rewriter.corpus import corpus_files, default_corpus, import_file, site_status
from rewriter.pipeline import rewrite_source
from undeclared import strip_declarations

FILES, _ = corpus_files([default_corpus()])
BY_NAME = {f.name: f for f in FILES}
RTOL = {"float16": 2e-3, "float32": 1e-5, "float64": 1e-10}  # by output dtype, as the corpus compares

# Programs that convert with their declarations but not without, with the engine's reason.
UNDECLARED_GAPS: dict = {
    "pipeline_softmax_temperature.py":
        "RW109 the rewrite depends on the input dtypes and a lambda has no room to choose by dtype: "
        "declare them with `# rewriter: args=...`",
}

# Programs whose NumPy code leaves the order of tied values open (np.argsort's default kind):
# on inputs with ties the rewrite's order is checked to be a valid one, not NumPy's own.
TIES_UNORDERED = {"apply_rank_rows.py"}


@lru_cache(maxsize=None)
def _rewrite(name: str, mode: str):
    entry = BY_NAME[name]
    text = entry.text if mode == "declared" else strip_declarations(entry.text)
    return text, rewrite_source(text, str(entry.path))


def _sweep_params():
    params = []
    for entry in FILES:
        if not entry.runnable or entry.shape == "negative":
            continue
        for mode in ("declared", "undeclared"):
            if _rewrite(entry.name, mode)[1].changed:
                params.append(pytest.param(entry.name, mode, id=f"{entry.stem}-{mode}"))
    return params


def _twin_params():
    params = []
    for entry in FILES:
        if site_status(_rewrite(entry.name, "declared")[1]) != "converted":
            continue
        marks = ()
        if entry.name in UNDECLARED_GAPS:
            marks = pytest.mark.xfail(strict=True, reason=UNDECLARED_GAPS[entry.name])
        params.append(pytest.param(entry.name, id=entry.stem, marks=marks))
    return params


@pytest.mark.parametrize("name", _twin_params())
def test_converts_without_its_declarations_too(name):
    text, result = _rewrite(name, "undeclared")
    assert "input_signature=" not in text and "rewriter: args" not in text
    assert site_status(result) == "converted", [(c.code, c.reason) for c in result.conversions]


@pytest.mark.parametrize("name, mode", _sweep_params())
def test_rewrite_matches_the_original_on_every_dtype_and_rank_it_accepts(tf, tmp_path, name, mode):
    entry = BY_NAME[name]
    text, result = _rewrite(name, mode)
    assert "raise TypeError" not in result.new
    (tmp_path / "original.py").write_text(text)
    (tmp_path / "rewritten.py").write_text(result.new)
    original = import_file(tmp_path / "original.py", "sweep_original")
    rewritten = import_file(tmp_path / "rewritten.py", "sweep_rewritten")
    sample = original.sample_inputs()
    problems, accepted = [], 0
    for position, value in enumerate(sample):
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            continue
        for label, variant in variants_of(value):
            inputs = list(sample)
            inputs[position] = variant
            want = outcome(original.program, *inputs)
            if entry.shape == "random" and want[0] == "ok" and any(
                    outcome(original.program, *inputs)[0] == "raised" for _ in range(12)):
                continue  # whether the original raises depends on its draws: not an input it accepts
            got = outcome(rewritten.program, *inputs)
            if want[0] == "ok" and got[0] == "raised" and _breaks_its_own_set_shape(tf, original.program, inputs, want[1]):
                continue  # the original's result contradicts its own `set_shape`: outside what it declares
            accepted += want[0] == "ok"
            if entry.shape == "random" and want[0] == got[0] == "ok":
                want, got = (want[0], _layout(want[1])), (got[0], _layout(got[1]))
            if name in TIES_UNORDERED and want[0] == got[0] == "ok" and _has_ties(variant):
                assert _ranks_order(variant, got[1]), f"input {position} as {label}: not a ranking of the rows"
                want, got = (want[0], _layout(want[1])), (got[0], _layout(got[1]))
            problem = mismatch(want, got, _rtol(want, variant), ulps_of_largest=8)  # as the corpus compares
            if problem:
                problems.append(f"input {position} as {label}: {problem}")
    assert accepted, "the original accepted none of the inputs: the sweep checked nothing"
    assert not problems, problems


def _layout(value):
    """What random programs are compared on: each output's dtype and shape."""
    if isinstance(value, tuple):
        return tuple(_layout(v) for v in value)
    return np.zeros(np.shape(value), np.asarray(value).dtype)


def _has_ties(rows) -> bool:
    rows = np.atleast_2d(rows)
    return any(len(np.unique(r)) < len(r) for r in rows.reshape(-1, rows.shape[-1]))


def _ranks_order(rows, ranks) -> bool:
    """Each row of `ranks` is a permutation that sorts its row of values."""
    rows, ranks = np.atleast_2d(rows), np.atleast_2d(ranks)
    for values, rank in zip(rows.reshape(-1, rows.shape[-1]), ranks.reshape(-1, ranks.shape[-1])):
        order = np.argsort(rank)
        if sorted(rank.tolist()) != list(range(len(rank))) or np.any(np.diff(values[order].astype(float)) < 0):
            return False
    return True


def _rtol(want, variant) -> float:
    outputs = want[1] if want[0] == "ok" and isinstance(want[1], tuple) else (want[1],)
    dtypes = [np.asarray(o).dtype.name for o in outputs if want[0] == "ok"] + [variant.dtype.name]
    return max(RTOL.get(d, 0.0) for d in dtypes) or 1e-5


def _breaks_its_own_set_shape(tf, program, inputs, values) -> bool:
    """Whether the original's outputs have static shapes (from `set_shape` on what
    numpy_function returned) that their values contradict: the program runs with a wrong
    declaration, which a rewrite with real static shapes rightly refuses at trace time."""
    function = program if hasattr(program, "get_concrete_function") else tf.function(program)
    outputs = tf.nest.flatten(function.get_concrete_function(*inputs).structured_outputs)
    values = values if isinstance(values, tuple) else (values,)
    return any(not o.shape.is_compatible_with(np.shape(v)) for o, v in zip(outputs, values))


def _unconverted_params():
    """The undeclared programs (TF1 programs build graphs themselves); those whose rewrite
    AutoGraph converts at import run in the quick suite, the rest (a trace each) are slow."""
    params = []
    for param in _sweep_params():
        name, mode = param.values
        if mode == "undeclared" and BY_NAME[name].shape != "tf1":
            quick = "@autograph_converted\n" in _rewrite(name, mode)[1].new
            params.append(pytest.param(name, mode, id=param.id, marks=() if quick else pytest.mark.slow))
    return params


@pytest.mark.parametrize("name, mode", _unconverted_params())
def test_rewrite_runs_where_autograph_is_off(tf, tmp_path, name, mode):
    """A Keras layer's `call`, or a Dataset.map built inside a tf.function, traces the program
    without AutoGraph (`autograph=False` does the same): wherever the original runs there, the
    rewrite must too, with its results."""
    entry = BY_NAME[name]
    text, result = _rewrite(name, mode)
    (tmp_path / "original.py").write_text(text)
    (tmp_path / "rewritten.py").write_text(result.new)
    original = import_file(tmp_path / "original.py", "unconverted_original")
    rewritten = import_file(tmp_path / "rewritten.py", "unconverted_rewritten")
    sample = original.sample_inputs()
    want = outcome(tf.function(original.program, autograph=False), *sample)
    got = outcome(tf.function(rewritten.program, autograph=False), *sample)
    if entry.shape == "random" and want[0] == got[0] == "ok":
        want, got = (want[0], _layout(want[1])), (got[0], _layout(got[1]))
    assert want[0] == "ok" or entry.shape == "random", f"the original does not run traced: {want[1]}"
    problem = mismatch(want, got, _rtol(want, sample[0]), ulps_of_largest=8)
    assert not problem, problem
