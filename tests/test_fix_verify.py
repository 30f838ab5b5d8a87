"""`rewriter fix --verify`: rewrites are kept only when they verify; figures are reported."""
import json
import textwrap

from rewriter.cli import main
from rewriter.pattern import Domain, Pattern
from rewriter.pipeline import RewriteOptions, rewrite_source
from rewriter.registry import Registry, default
from rewriter.verify_sites import make_verifier

SOURCE = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def wave(x):
        return np.sin(x) * 2.0


    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float64)])
    def pipeline(x):
        return tf.numpy_function(wave, [x], tf.float64)
    """)


def test_verified_site_is_kept_with_figures(tf, tmp_path):
    path = tmp_path / "good.py"
    path.write_text(SOURCE)
    report = tmp_path / "report.json"
    assert main(["fix", "--verify", "--jobs", "1", "--report", str(report), str(path)]) == 0
    assert "tf.sin(x) * 2.0" in path.read_text()
    (site,) = json.loads(report.read_text())["files"][0]["sites"]
    figures = site["verification"]
    assert figures["ok"] and figures["values_ok"] and figures["grad_ok"]
    assert figures["max_rel_err"] < 1e-12 and figures["trials"] >= 2 and "CPU" in figures["device"]


def test_wrong_rewrite_is_caught_and_not_written(tf):
    # A deliberately wrong pattern (sin lowered to cos) must not survive verification.
    wrong = Registry([p for p in default() if p.numpy != "numpy.sin"] + [
        Pattern("numpy.sin", examples=("np.sin(a)",), tf="tf.cos(x)", domain=Domain(dtypes=("float64",)))])
    options = RewriteOptions(registry=wrong)
    unverified = rewrite_source(SOURCE, "wave.py", options)
    assert "tf.cos(x)" in unverified.new
    verified = rewrite_source(SOURCE, "wave.py", options, make_verifier("wave.py"))
    assert verified.new == SOURCE
    (conversion,) = verified.conversions
    assert conversion.status == "left" and conversion.code == "RW400"
    assert conversion.reason.startswith("verification failed")


def test_site_without_usable_inputs_is_unverified_and_left(tf, tmp_path):
    source = SOURCE.replace("tf.numpy_function(wave, [x], tf.float64)",
                            "tf.numpy_function(lambda v: np.sin(v), [x], tf.float64)")
    result = rewrite_source(source, str(tmp_path / "lam.py"), verifier=make_verifier(str(tmp_path / "lam.py")))
    (conversion,) = result.conversions
    assert conversion.status == "left" and conversion.code == "RW401"
    assert result.new == source


def test_verify_runs_map_fn_sites(tf, tmp_path):
    source = textwrap.dedent("""\
        import tensorflow as tf


        @tf.function
        def f(x):
            return tf.map_fn(lambda v: tf.nn.relu(v) * 3.0, x)
        """)
    result = rewrite_source(source, str(tmp_path / "m.py"), verifier=make_verifier(str(tmp_path / "m.py")))
    (conversion,) = result.conversions
    assert conversion.status == "converted" and conversion.verification["ok"]
    assert "return tf.nn.relu(x) * 3.0" in result.new
