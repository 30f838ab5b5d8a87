"""Hand-written @tf.custom_gradient gradients around a NumPy forward: found with the site,
checked against autodiff of the rewrite (library `verify(..., grad=True)` and `fix --verify`),
reported, and removed by `--drop-redundant-gradients` only when they agreed everywhere."""
import json
import textwrap

import numpy as np
import pytest

from rewriter.cli import main
from rewriter.custom_gradients import drop_edits
from rewriter.edits import apply_edits
from rewriter.parse import parse
from rewriter.resolve import Resolver
from rewriter.sites import find_sites

FORWARD = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def sin_squared(x):
        return np.sin(x) ** 2


    @tf.custom_gradient
    def sin_squared_loss(x):
        y = tf.numpy_function(sin_squared, [x], tf.float32)

        def grad(dy):
            return GRADIENT

        return y, grad
    """)
AGREES = "dy * 2.0 * tf.sin(x) * tf.cos(x)"
WRONG = "dy * tf.sin(x) * tf.cos(x)"
FAILS = "dy * 2.0 * tf.cos(tf.cast(x, tf.float64))"


def program(gradient: str, declared: bool = False) -> str:
    text = FORWARD.replace("GRADIENT", gradient)
    if declared:
        text = text.replace("[x], tf.float32)", "[x], tf.float32)  # rewriter: args=x:float32[None]")
    return text


def only_site(text: str):
    module = parse(text)
    (site,) = find_sites(module, Resolver(module))
    return site, module


# -- finding them (no TensorFlow) ------------------------------------------------------------------


def test_the_site_records_the_custom_gradient_function_around_it():
    site, _ = only_site(program(AGREES))
    found = site.custom_gradient
    assert (found.function.name, found.grad.name, found.unchecked) == ("sin_squared_loss", "grad", "")
    assert found.describe() == {"function": "sin_squared_loss", "gradient": "grad", "line": 10}


def test_a_site_outside_any_custom_gradient_records_none():
    site, _ = only_site(program(AGREES).replace("@tf.custom_gradient\n", ""))
    assert site.custom_gradient is None


@pytest.mark.parametrize("change, reason", [
    (("[x], tf.float32)", "[x * 2.0], tf.float32)"), "inputs are not `sin_squared_loss`'s parameters"),
    (("def grad(dy):", "def grad(dy, variables=None):"), "takes more than `dy`"),
    (("return y, grad", "return y, lambda dy: dy"), "does not end with `return y, grad`"),
    (("@tf.custom_gradient\n", "@tf.custom_gradient\n@some_decorator\n"), "decorators other than"),
    (("\n    return y, grad", "\n    keep = grad\n    return y, grad"), "used elsewhere"),
])
def test_what_cannot_be_checked_says_why(change, reason):
    assert change[0] in program(AGREES)
    site, _ = only_site(program(AGREES).replace(*change))
    assert reason in site.custom_gradient.unchecked


def test_a_custom_gradient_function_nested_in_another_is_not_checked():
    text = program(AGREES).replace("@tf.custom_gradient\ndef sin_squared_loss(x):",
                                   "def model():\n  @tf.custom_gradient\n  def sin_squared_loss(x):")
    text = text.replace("\n    ", "\n      ").replace("\n\n        return", "\n\n          return")
    site, _ = only_site(text)
    assert "not defined at module level" in site.custom_gradient.unchecked


@pytest.mark.parametrize("returned, kept", [("y, grad", "y"), ("(y, grad)", "y")])
def test_dropping_leaves_the_plain_forward(returned, kept):
    text = program(AGREES).replace("return y, grad", f"return {returned}")
    site, module = only_site(text)
    dropped = apply_edits(text, drop_edits(site.custom_gradient, module.source))
    assert dropped == text.replace("@tf.custom_gradient\n", "").replace(
        f"    def grad(dy):\n        return {AGREES}\n\n", "").replace(f"return {returned}", f"return {kept}")
    compile(dropped, "dropped.py", "exec")


def test_check_reports_a_custom_gradient_around_a_numpy_forward():
    from rewriter.check import check_source

    (finding,) = [d for d in check_source(program(WRONG), "loss.py") if d.code == "RWC009"]
    assert (finding.line, finding.col, finding.fixable) == (10, 1, False)
    assert "`sin_squared_loss` hand-writes the gradient" in finding.message
    assert "`rewriter fix --verify` checks `grad`" in finding.message


def test_drop_redundant_gradients_needs_verify(tmp_path, capsys):
    path = tmp_path / "loss.py"
    path.write_text(program(AGREES))
    assert main(["fix", "--drop-redundant-gradients", "--jobs", "1", str(path)]) == 2
    assert "--drop-redundant-gradients needs --verify" in capsys.readouterr().err
    assert path.read_text() == program(AGREES)


def test_without_verify_the_report_says_the_gradient_was_not_checked(tmp_path):
    path, report = tmp_path / "loss.py", tmp_path / "report.json"
    path.write_text(program(WRONG))
    assert main(["fix", "--jobs", "1", "--report", str(report), str(path)]) == 0
    (site,) = json.loads(report.read_text())["files"][0]["sites"]
    assert site["custom_gradient"] == {"function": "sin_squared_loss", "gradient": "grad", "line": 10,
                                       "verdict": "not checked", "reason": "run `rewriter fix --verify`"}
    assert "@tf.custom_gradient" in path.read_text() and "def grad(dy):" in path.read_text()


def test_the_markdown_report_lists_hand_written_gradients(tmp_path):
    path, report = tmp_path / "loss.py", tmp_path / "report.md"
    path.write_text(program(WRONG))
    assert main(["fix", "--jobs", "1", "--report", str(report), "--report-format", "markdown", str(path)]) == 0
    text = report.read_text()
    assert "### Hand-written gradients (@tf.custom_gradient)" in text
    assert f"| `{path}:11` | custom gradient `grad` of `sin_squared_loss` not checked: run `rewriter fix --verify` |" \
        in text


def test_a_forward_left_as_numpy_says_so(tmp_path):
    path, report = tmp_path / "loss.py", tmp_path / "report.json"
    path.write_text(program(WRONG).replace("return np.sin(x) ** 2", "return np.sin(x) ** 2 + len(open('f'))"))
    assert main(["fix", "--jobs", "1", "--report", str(report), str(path)]) == 0
    (site,) = json.loads(report.read_text())["files"][0]["sites"]
    assert site["status"] == "left"
    assert (site["custom_gradient"]["verdict"], site["custom_gradient"]["reason"]) == \
        ("not checked", "the forward stays NumPy")


# -- the library: verify(..., grad=True) on a @tf.custom_gradient rewrite ---------------------------


def custom_sin_squared(tf, gradient):
    @tf.custom_gradient
    def sin_squared_loss(x):
        def grad(dy):
            return gradient(tf, x, dy)

        return tf.square(tf.sin(x)), grad

    return sin_squared_loss


def numpy_sin_squared(x):
    return np.sin(x) ** 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_verify_finds_a_correct_custom_gradient_redundant(tf, dtype):
    from rewriter.verification import verify

    x = np.linspace(-2.0, 2.0, 9).astype(dtype)
    result = verify(numpy_sin_squared, custom_sin_squared(tf, lambda tf, x, dy: dy * 2.0 * tf.sin(x) * tf.cos(x)),
                    x, grad=True)
    record = result.custom_gradient
    assert result.ok and record["verdict"] == "agree"
    assert record["max_rel_err"] <= {np.float32: 2e-3, np.float64: 1e-6}[dtype]
    assert record["finite_differences"]["hand_written_ok"] and record["finite_differences"]["autodiff_ok"]
    assert "agrees with autodiff of the rewrite" in str(result)


def test_verify_locates_a_wrong_custom_gradient(tf):
    from rewriter.verification import verify

    x = np.linspace(-2.0, 2.0, 9).astype(np.float32)
    result = verify(numpy_sin_squared, custom_sin_squared(tf, lambda tf, x, dy: dy * tf.sin(x) * tf.cos(x)),
                    x, grad=True)
    record = result.custom_gradient
    assert not result.ok and record["verdict"] == "disagree" and record["input"] == "x"
    dy = np.asarray(record["dy_values"], np.float64)
    exact = dy * 2 * np.sin(x.astype(np.float64)) * np.cos(x.astype(np.float64))
    user = exact / 2
    index = tuple(record["index"])
    assert record["where"] == f"x[{index[0]}]" and record["input_value"] == x[index] and record["dy"] == dy[index]
    np.testing.assert_allclose([record["autodiff"], record["hand_written"]], [exact[index], user[index]], rtol=1e-5)
    np.testing.assert_allclose(record["max_rel_err"], np.max(np.abs(user - exact)) / np.max(np.abs(exact)),
                               rtol=1e-4)
    assert record["input_values"] == x.tolist()
    fd = record["finite_differences"]
    assert fd["autodiff_ok"] and not fd["hand_written_ok"]
    assert "DISAGREES with autodiff of the rewrite" in str(result)


def test_verify_names_the_input_whose_gradient_is_wrong(tf):
    from rewriter.verification import verify

    @tf.custom_gradient
    def weighted_square(x, w):
        def grad(dy):
            return dy * 2.0 * w * x, dy * x   # d/dw is x ** 2

        return w * tf.square(x), grad

    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(5), rng.standard_normal(5)
    record = verify(lambda x, w: w * x ** 2, weighted_square, x, w, grad=True).custom_gradient
    assert record["verdict"] == "disagree" and record["input"] == "w"
    dy = np.asarray(record["dy_values"])
    index = tuple(record["index"])
    np.testing.assert_allclose([record["hand_written"], record["autodiff"]], [(dy * x)[index], (dy * x * x)[index]])
    assert record["input_value"] == w[index] and record["input_values"] == w.tolist()


def test_verify_reports_a_custom_gradient_that_fails_to_run(tf):
    from rewriter.verification import verify

    x = np.linspace(-2.0, 2.0, 9).astype(np.float32)
    result = verify(numpy_sin_squared,
                    custom_sin_squared(tf, lambda tf, x, dy: dy * 2.0 * tf.cos(tf.cast(x, tf.float64))), x, grad=True)
    record = result.custom_gradient
    assert not result.ok and record["verdict"] == "fails to run"
    assert record["message"].startswith("InvalidArgumentError: cannot compute Mul")
    assert "\n" not in record["message"]


@pytest.mark.parametrize("wrapper", ["numpy_function", "py_function"])
def test_verify_does_not_check_a_forward_that_still_runs_numpy(tf, wrapper):
    """numpy_function has no gradient; py_function's is zero: neither is autodiff of a rewrite."""
    from rewriter.verification import verify

    @tf.custom_gradient
    def still_numpy(x):
        def grad(dy):
            return dy * 2.0 * tf.sin(x) * tf.cos(x)

        return getattr(tf, wrapper)(lambda v: numpy_sin_squared(np.asarray(v)), [x], tf.float32), grad

    result = verify(numpy_sin_squared, still_numpy, np.linspace(-2.0, 2.0, 9).astype(np.float32), grad=True)
    assert result.custom_gradient["verdict"] == "not checked"
    assert "no gradient through the forward" in result.custom_gradient["reason"]


def test_verify_without_grad_or_custom_gradient_adds_no_record(tf):
    from rewriter.verification import verify

    x = np.linspace(-2.0, 2.0, 9)
    good = custom_sin_squared(tf, lambda tf, x, dy: dy * 2.0 * tf.sin(x) * tf.cos(x))
    assert verify(numpy_sin_squared, good, x, grad=False).custom_gradient is None
    assert verify(numpy_sin_squared, lambda x: tf.square(tf.sin(x)), x).custom_gradient is None


# -- the CLI: fix --verify [--drop-redundant-gradients] ----------------------------------------------


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    """One `fix --verify --drop-redundant-gradients` run over a folder of the four cases."""
    folder = tmp_path_factory.mktemp("custom_gradients")
    sources = {"agrees_declared.py": program(AGREES, declared=True), "agrees.py": program(AGREES),
               "wrong.py": program(WRONG), "fails.py": program(FAILS)}
    for name, text in sources.items():
        (folder / name).write_text(text)
    report = folder.parent / f"{folder.name}.json"
    import io
    from contextlib import redirect_stderr

    printed = io.StringIO()
    with redirect_stderr(printed):
        code = main(["fix", "--verify", "--drop-redundant-gradients", "--jobs", "1", "--report", str(report),
                     str(folder)])
    records = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(report.read_text())["files"]}
    return {"code": code, "folder": folder, "sources": sources, "records": records, "printed": printed.getvalue(),
            "summary": json.loads(report.read_text())["summary"]}


def gradient_record(fixed, name) -> dict:
    (site,) = fixed["records"][name]["sites"]
    assert site["status"] == "converted"   # a gradient finding never leaves the forward unconverted
    return site["custom_gradient"]


def test_fix_verify_exits_0_and_counts_the_verdicts(tf, fixed):
    assert fixed["code"] == 0
    assert fixed["summary"]["custom_gradients"] == {"agree": 2, "disagree": 1, "fails to run": 1}
    assert ("hand-written @tf.custom_gradient gradients against autodiff of the rewrite: "
            "2 agree, 1 disagree, 1 fails to run") in fixed["printed"]


def test_an_agreeing_gradient_is_dropped_when_every_input_is_native(tf, fixed):
    record = gradient_record(fixed, "agrees_declared.py")
    assert record["verdict"] == "agree" and record["dropped"] and record["kept_because"] == ""
    text = (fixed["folder"] / "agrees_declared.py").read_text()
    assert "custom_gradient" not in text and "def grad" not in text and "    return y\n" in text
    assert "tf.numpy_function" not in text


def test_an_agreeing_gradient_stays_where_some_input_still_runs_numpy(tf, fixed):
    record = gradient_record(fixed, "agrees.py")
    assert record["verdict"] == "agree" and "dropped" not in record
    assert record["kept_because"].endswith("autodiff finds no gradient through the forward (it still runs Python "
                                           "code): removing the hand-written gradient would change it there")
    text = (fixed["folder"] / "agrees.py").read_text()
    assert "@tf.custom_gradient" in text and "return y, grad" in text and "sin_squared_tf(" in text


def test_a_wrong_gradient_is_reported_and_kept(tf, fixed):
    record = gradient_record(fixed, "wrong.py")
    assert record["verdict"] == "disagree" and "dropped" not in record
    assert record["max_rel_err"] == pytest.approx(0.5, rel=1e-3)   # the factor 2 missing, at every element
    assert {"where", "input_value", "dy", "hand_written", "autodiff", "input_values", "dy_values"} <= set(record)
    assert record["hand_written"] == pytest.approx(record["autodiff"] / 2, rel=1e-5)
    assert record["finite_differences"]["autodiff_ok"] and not record["finite_differences"]["hand_written_ok"]
    line = next(line for line in fixed["printed"].splitlines() if "custom gradient" in line and "wrong" not in line
                and "DISAGREES" in line)
    assert f"at {record['where']}" in line and "finite differences of the original side with autodiff" in line
    text = (fixed["folder"] / "wrong.py").read_text()
    assert "@tf.custom_gradient" in text and WRONG in text and "tf.numpy_function(sin_squared" not in \
        text.split("def sin_squared_loss")[1]


def test_a_gradient_that_fails_to_run_is_reported_and_kept(tf, fixed):
    record = gradient_record(fixed, "fails.py")
    assert record["verdict"] == "fails to run" and "dropped" not in record
    assert "was expected to be a float tensor but is a double tensor" in record["message"]
    assert "fails to run: InvalidArgumentError" in fixed["printed"]
    assert FAILS in (fixed["folder"] / "fails.py").read_text()


def test_by_default_fix_verify_keeps_an_agreeing_gradient(tf, tmp_path):
    path = tmp_path / "loss.py"
    path.write_text(program(AGREES, declared=True))
    assert main(["fix", "--verify", "--jobs", "1", str(path)]) == 0
    text = path.read_text()
    assert "@tf.custom_gradient" in text and "return y, grad" in text and "tf.numpy_function" not in text


def test_without_verify_the_summary_says_what_would_check_the_gradients():
    from rewriter.report import Summary, render_summary

    summary = Summary()
    summary.custom_gradients["not checked"] = 3
    assert render_summary(summary)[-1] == ("3 hand-written @tf.custom_gradient gradients not checked: "
                                           "`rewriter fix --verify` compares them with autodiff of the rewrite")
