"""The corpus (corpus/*.py) as a test of the engine.

Per corpus file:

* status: rewrite it, derive converted / partial / left from its sites and compare with the
  file's EXPECTED_STATUS;
* a file with no site converted comes back byte for byte;
* idempotence: rewriting the rewritten text changes nothing;
* for runnable files the rewrite changed: the rewritten `program` returns what the original
  returns and what `reference` returns (random programs: same shapes, dtypes and, loosely, the
  same distribution), and its traced graph holds no Python callback op.

Files are never imported just to read their constants (some import cv2 or librosa, which are not
installed): constants come from parsing. The engine does not convert everything the corpus
expects yet: KNOWN_GAPS lists, with the engine's reason, exactly the files whose status check
fails today. They are strict xfails, so a file the engine learns to handle fails with XPASS
until its entry is removed: the list can only shrink.
"""
from __future__ import annotations

import json
import math
import types
from functools import lru_cache

import numpy as np
import pytest

from rewriter.bench import run_bench
from rewriter.corpus import (CALLBACK_OPS, as_numpy, compare_outputs, corpus_files, default_corpus, first_reason,
                             import_file, site_status)
from rewriter.pipeline import rewrite_source

# The status checks that fail today: file -> the engine's first reason (code, line, message).
# Remove an entry when its test XPASSes; never add one to silence a regression.
KNOWN_GAPS = {
    "apply_histogram_rows.py":
        "numpy.histogram is not rewritten for float32 input (its domain is float64)",
    "loop_parity_tf_range.py":
        "RW318 line 14 `tf.bitwise.bitwise_and(tf.bitwise.right_shift(codes, i), 1)`: each step folds a value computed "
        "from all of `codes`: stacking the steps would hold one copy per step and run no faster than the loop, "
        "which stays",
    "pipeline_char_duration_average.py":
        "RW205 line 13 `sums = np.bincount(ids, weights=values * voiced, minlength=len(durations))`: numpy.bincount: argument `weights=` is not supported",
    "pipeline_frame_windows.py":
        "RW200: slicing sliding_window_view windows with a step: TF would build every step-1 window (refused as a slowdown)",
    "pipeline_pad_crop_fixed_length.py":
        "RW200 line 15 `return np.pad(wav, (0, MAX_LEN - len(wav)), mode=\"constant\")`: numpy.pad: the rank of the input is unknown",
    "pipeline_percentile_clip.py":
        "RW200 line 17 `lo, hi = np.percentile(vol, [LOW_PCT, HIGH_PCT])`: the dtype or rank of an operand is unknown here",
    "pipeline_threshold_two_outputs.py":
        "RW200 line 14 `mask = prob_maps > self.threshold`: the dtype or rank of an operand is unknown here",
    "random_spec_masking.py":
        "RW200 line 18 `t0 = RNG.integers(0, n_time - w + 1)`: the dtype or rank of an operand is unknown here",
}

# Rewritten programs that fail when run like the original (program(*sample_inputs())): strict
# xfails of the two value checks, with what goes wrong. Same rule: the list only shrinks.
KNOWN_RUN_FAILURES = {
}

FILES, PROBLEMS = corpus_files([default_corpus()])
BY_NAME = {f.name: f for f in FILES}
CALLBACK_SITES = ("numpy_function", "py_function", "py_func")   # site kinds that leave the graph
RANDOM_CALLS = 20     # calls per side when comparing random programs
RANDOM_Z = 6.0        # how many standard errors two per-call means may differ by


def _params(gaps: dict | None = None, raises=AssertionError, when=None):
    """One param per corpus file (those `when(entry)` accepts), id = file stem; files in
    `gaps` are strict xfails. Files a test does not apply to are not generated, not skipped."""
    params = []
    for entry in FILES:
        if when is not None and not when(entry):
            continue
        marks = ()
        if gaps and entry.name in gaps:
            marks = pytest.mark.xfail(strict=True, raises=raises, reason=gaps[entry.name])
        params.append(pytest.param(entry.name, id=entry.stem, marks=marks))
    return params


@lru_cache(maxsize=None)
def _rewrite(name: str):
    entry = BY_NAME[name]
    return rewrite_source(entry.text, str(entry.path))


def _runnable(entry) -> bool:
    return entry.runnable


def _runs_rewritten(entry) -> bool:
    return entry.runnable and _rewrite(entry.name).changed


# ---------------------------------------------------------------------------------------------
# fast: the engine only, no TensorFlow


def test_corpus_is_complete():
    assert not PROBLEMS, PROBLEMS
    assert len(FILES) >= 40, "the corpus folder is missing files"
    for known in (KNOWN_GAPS, KNOWN_RUN_FAILURES):
        assert set(known) <= set(BY_NAME), f"files not in the corpus: {set(known) - set(BY_NAME)}"


@pytest.mark.parametrize("name", _params(KNOWN_GAPS))
def test_status_matches_expected(name):
    entry, result = BY_NAME[name], _rewrite(name)
    status = site_status(result)
    assert status == entry.expected, (
        f"engine: {status}, expected: {entry.expected}; first reason: {first_reason(result, entry.shape)}\n"
        + "\n".join(f"  line {c.line}: {c.status} {c.code} {c.reason}" for c in result.conversions))


@pytest.mark.parametrize("name", _params())
def test_unconverted_file_is_untouched(name):
    entry, result = BY_NAME[name], _rewrite(name)
    assert not result.error, result.error
    if site_status(result) == "left":
        assert result.new == entry.text, "a file with no site converted must be left byte for byte"


@pytest.mark.parametrize("name", _params())
def test_rewrite_is_idempotent(name):
    first = _rewrite(name)
    second = rewrite_source(first.new, str(BY_NAME[name].path))
    assert second.new == first.new, "a second rewrite changed the rewritten text"


# ---------------------------------------------------------------------------------------------
# running the programs (TensorFlow): only files the engine changed


_OUTPUTS: dict = {}


@pytest.fixture(scope="module")
def rewritten_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("rewritten_corpus")


def _rewritten_module(name, rewritten_dir):
    """The rewritten file, freshly imported."""
    entry, result = BY_NAME[name], _rewrite(name)
    target = rewritten_dir / entry.name
    target.write_text(result.new, encoding="utf-8")
    return import_file(target, "new")


def _modules(name, rewritten_dir):
    """(original module, rewritten module), fresh imports."""
    rewritten = _rewritten_module(name, rewritten_dir)
    return import_file(BY_NAME[name].path, "orig"), rewritten


def _calls(entry) -> int:
    return RANDOM_CALLS if entry.shape == "random" else 1


def _outputs(name) -> dict:
    """Outputs of the original program and the reference on sample_inputs(), each called once
    after a fresh import (RANDOM_CALLS times for random programs): a list of calls, each a list
    of arrays. Cached per file."""
    if name not in _OUTPUTS:
        entry = BY_NAME[name]
        original = import_file(entry.path, "orig")
        inputs = original.sample_inputs()
        _OUTPUTS[name] = {"original": [as_numpy(original.program(*inputs)) for _ in range(_calls(entry))],
                          "reference": [as_numpy(original.reference(*inputs)) for _ in range(_calls(entry))]}
    return _OUTPUTS[name]


def _rewritten_outputs(name, rewritten_dir) -> dict:
    """_outputs plus "rewritten": the rewritten program's, called like the original."""
    runs = _outputs(name)
    if "rewritten" not in runs:
        rewritten = _rewritten_module(name, rewritten_dir)
        inputs = rewritten.sample_inputs()
        runs["rewritten"] = [as_numpy(rewritten.program(*inputs)) for _ in range(_calls(BY_NAME[name]))]
    return runs


def _same_distribution(actual_calls, expected_calls) -> list:
    """Loose check for random programs: per output, the same shapes and dtypes on every call,
    and per-call means and standard deviations that agree within RANDOM_Z standard errors."""
    problems = []
    first_a, first_e = actual_calls[0], expected_calls[0]
    if len(first_a) != len(first_e):
        return [f"{len(first_a)} outputs, expected {len(first_e)}"]
    for calls, label in ((actual_calls, "actual"), (expected_calls, "expected")):
        for outputs in calls:
            kinds = [(o.shape, o.dtype) for o in outputs]
            if kinds != [(o.shape, o.dtype) for o in first_e]:
                problems.append(f"{label}: outputs {kinds}, expected {[(o.shape, o.dtype) for o in first_e]}")
                break
    if problems:
        return problems
    for i in range(len(first_e)):
        for stat in (np.mean, np.std):
            a = np.array([stat(c[i].astype(np.float64)) for c in actual_calls])
            e = np.array([stat(c[i].astype(np.float64)) for c in expected_calls])
            se = math.sqrt(a.var(ddof=1) / len(a) + e.var(ddof=1) / len(e))
            slack = RANDOM_Z * se + 1e-6 * (1.0 + abs(e.mean()))
            if abs(a.mean() - e.mean()) > slack:
                problems.append(f"output {i}: per-call {stat.__name__} {a.mean():.6g} vs {e.mean():.6g} "
                                f"(allowed difference {slack:.3g})")
    return problems


def _compare(actual_calls, expected_calls, shape) -> list:
    if shape == "random":
        return _same_distribution(actual_calls, expected_calls)
    return compare_outputs(actual_calls[0], expected_calls[0])


@pytest.mark.parametrize("name", _params(when=_runnable))
def test_reference_matches_program(name, tf):
    """The corpus's own claim, which the checks below rely on: reference == program."""
    runs = _outputs(name)
    problems = _compare(runs["reference"], runs["original"], BY_NAME[name].shape)
    assert not problems, "hand-written reference vs original program:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", _params(KNOWN_RUN_FAILURES, raises=Exception, when=_runs_rewritten))
def test_rewrite_runs_like_original(name, tf, rewritten_dir):
    runs = _rewritten_outputs(name, rewritten_dir)
    problems = _compare(runs["rewritten"], runs["original"], BY_NAME[name].shape)
    assert not problems, "rewritten program vs original:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", _params(KNOWN_RUN_FAILURES, raises=Exception, when=_runs_rewritten))
def test_rewrite_matches_reference(name, tf, rewritten_dir):
    runs = _rewritten_outputs(name, rewritten_dir)
    problems = _compare(runs["rewritten"], runs["reference"], BY_NAME[name].shape)
    assert not problems, "rewritten program vs hand-written reference:\n" + "\n".join(problems)


def _graph_of(tf, module, inputs):
    """What to look for callback ops in: the traced `program`, or for TF1 programs (which run
    their own Session) the graph their `build_graph` builds."""
    if getattr(module, "SHAPE", "") == "tf1":
        graph = tf.Graph()
        with graph.as_default():
            module.build_graph()
        return types.SimpleNamespace(graph=graph)
    return _concrete(tf, module.program, inputs)


def _concrete(tf, program, inputs):
    specs = [tf.TensorSpec.from_tensor(tf.convert_to_tensor(x)) for x in inputs]
    if hasattr(program, "get_concrete_function"):
        if getattr(program, "input_signature", None) is not None:
            return program.get_concrete_function()
        return program.get_concrete_function(*specs)
    return tf.function(program).get_concrete_function(*specs)


def callback_ops(concrete) -> list:
    """Python callback ops (PyFunc, EagerPyFunc, ...) in a traced function's graph and in every
    function of its library (bodies of loops, conds, nested tf.functions)."""
    found = [op.type for op in concrete.graph.get_operations() if op.type in CALLBACK_OPS]
    for function in concrete.graph.as_graph_def().library.function:
        found += [node.op for node in function.node_def if node.op in CALLBACK_OPS]
    return found


@pytest.mark.parametrize("name", _params(when=_runs_rewritten))
def test_rewrite_stays_in_graph(name, tf, rewritten_dir):
    original, rewritten = _modules(name, rewritten_dir)
    result = _rewrite(name)
    inputs = original.sample_inputs()
    before = callback_ops(_graph_of(tf, original, inputs))
    after = callback_ops(_graph_of(tf, rewritten, inputs))
    callback_sites = [c for c in result.conversions if c.site.kind in CALLBACK_SITES]
    if callback_sites:  # the detector sees the original's callbacks
        assert before, "no callback op found in the original program's graph"
    if site_status(result) == "converted":
        assert not after, f"the rewritten program still leaves the graph: {after}"
    elif any(c.status == "converted" for c in callback_sites):  # partial: fewer callbacks
        assert len(after) < len(before), f"callbacks before: {before}, after: {after}"
    else:
        assert len(after) == len(before), f"callbacks before: {before}, after: {after}"


# ---------------------------------------------------------------------------------------------
# the checks themselves: a wrong rewrite must not pass them


def test_compare_outputs_catches_wrong_values(tf):
    x = np.random.default_rng(0).standard_normal((64, 32)).astype(np.float32)
    assert compare_outputs(x, x.copy()) == []
    assert compare_outputs(np.nextafter(x, np.float32(np.inf)), x) == []        # an ulp apart
    assert compare_outputs(x * np.float32(1 + 1e-4), x)                          # 1e-4 relative
    assert compare_outputs(x.astype(np.float64), x)                              # dtype
    assert compare_outputs(x.T, x.T.copy()[:, :-1])                             # shape
    assert compare_outputs((x, x), x)                                             # output count
    ints = np.arange(10)
    assert compare_outputs(ints, ints) == [] and compare_outputs(ints + (ints == 3), ints)
    y = x.astype(np.float64)
    assert compare_outputs(y * (1 + 1e-9), y) and compare_outputs(y * (1 + 1e-12), y) == []


def test_distribution_check_catches_wrong_random_programs(tf):
    rng = np.random.default_rng(1)
    base = rng.random((64, 64)).astype(np.float32)

    def calls(noise_std=0.1, jitter=0.2):
        return [[base + rng.normal(0.0, noise_std, base.shape).astype(np.float32)
                 + np.float32(rng.uniform(-jitter, jitter))] for _ in range(RANDOM_CALLS)]

    assert _same_distribution(calls(), calls()) == []
    assert _same_distribution(calls(noise_std=0.15), calls())          # wrong noise scale
    assert _same_distribution(calls(jitter=0.0), calls(jitter=0.0)) == []
    assert _same_distribution([[c[0] + np.float32(0.3)] for c in calls()], calls())   # shifted
    assert _same_distribution([[c[0][:, :-1]] for c in calls()], calls())             # shape


# ---------------------------------------------------------------------------------------------
# the benchmark


def test_bench_smoke(tf, tmp_path):
    out_json, out_md = tmp_path / "bench.json", tmp_path / "bench.md"
    text = tmp_path / "table.txt"
    with open(text, "w", encoding="utf-8") as handle:
        code = run_bench([default_corpus() / "pipeline_normalize_rows.py"], device="/CPU:0",
                         json_out=out_json, markdown_out=out_md, repeats=2, warmup=1,
                         progress=False, out=handle)
    assert code == 0, text.read_text()
    data = json.loads(out_json.read_text())
    assert set(data) >= {"machine", "summary", "programs", "skipped"}
    assert data["machine"]["device"] == "/CPU:0" and data["machine"]["cores"] > 0
    assert data["machine"]["tensorflow"] == tf.__version__
    (row,) = data["programs"]
    assert row["name"] == "pipeline_normalize_rows" and row["shape"] == "numpy_function"
    assert row["status"] == site_status(_rewrite("pipeline_normalize_rows.py"))
    timed = ["original", "reference"] + (["rewritten"] if row["status"] != "left" else [])
    for label in timed:
        assert row[f"{label}_first_ms"] > 0 and row[f"{label}_ms"] > 0
        assert row["repeats"][label] == 2
    if row["status"] == "converted":
        assert row["speedup"] > 0 and row["overhead"] > 0 and row["check"] == "ok"
        assert data["summary"]["geomean_speedup"] > 0
    assert "pipeline_normalize_rows" in text.read_text() and "machine:" in text.read_text()
    assert out_md.read_text().startswith("| program |")


def test_bench_jit_times_the_rewrite_under_xla_or_names_the_op(tf, tmp_path):
    out_json = tmp_path / "bench.json"
    programs = [default_corpus() / "pipeline_normalize_rows.py", default_corpus() / "tf1_compat_v1_pcm_log_energy.py"]
    with open(tmp_path / "table.txt", "w", encoding="utf-8") as handle:
        assert run_bench(programs, device="/CPU:0", json_out=out_json, repeats=2, progress=False, out=handle,
                         jit=True) == 0
    table = (tmp_path / "table.txt").read_text()
    assert "xla ms" in table and "xla speedup" in table
    rows = {row["name"]: row for row in json.loads(out_json.read_text())["programs"]}
    compiled = rows["pipeline_normalize_rows"]
    assert compiled["xla_ms"] > 0 and compiled["xla_error"] == ""
    assert math.isclose(compiled["xla_speedup"], compiled["original_ms"] / compiled["xla_ms"], rel_tol=1e-3)
    assert rows["tf1_compat_v1_pcm_log_energy"]["xla_ms"] is None
    assert "runs its own Session" in rows["tf1_compat_v1_pcm_log_energy"]["xla_error"]


def test_xla_failure_names_the_op_without_a_kernel(tf):
    from rewriter.bench import _compiled_with_xla

    def leaves_the_graph(x):
        return tf.numpy_function(np.sort, [x], tf.float32)

    compiled, why = _compiled_with_xla(leaves_the_graph, None, [tf.constant([2.0, 1.0])])
    assert compiled is None and why == "not compiled: no XLA kernel for PyFunc"
