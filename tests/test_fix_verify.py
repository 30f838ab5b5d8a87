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


LOOP_FORMS = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def row_energy(x):
        return np.apply_along_axis(lambda r: np.sqrt(np.sum(r * r)), 1, x)


    def centred(x):
        out = np.empty_like(x)
        for i in range(len(x)):
            m = x[i].mean()
            out[i] = x[i] - m
        return out


    def positive_total(x):
        total = 0.0
        for r in x:
            if r.sum() < 0:
                continue
            total += np.sum(r * r)
        return total


    def running(x):
        out = np.zeros_like(x)
        s = np.zeros(x.shape[1])
        for t in range(len(x)):
            s += x[t]
            out[t] = s
        return out


    def discounted(x):
        out = np.zeros_like(x)
        g = np.zeros(x.shape[1])
        for t in reversed(range(x.shape[0])):
            g = x[t] + 0.9 * g
            out[t] = g
        return out


    def stacked(x):
        return np.array([np.tanh(r) * r.max() for r in x])


    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float64)])
    def pipeline(x):
        return (tf.numpy_function(row_energy, [x], tf.float64), tf.numpy_function(centred, [x], tf.float64),
                tf.numpy_function(positive_total, [x], tf.float64), tf.numpy_function(running, [x], tf.float64),
                tf.numpy_function(discounted, [x], tf.float64), tf.numpy_function(stacked, [x], tf.float64))
    """)


def test_every_vectorized_loop_form_goes_through_the_verifier(tf, tmp_path):
    path = tmp_path / "loops.py"
    path.write_text(LOOP_FORMS)
    result = rewrite_source(LOOP_FORMS, str(path), verifier=make_verifier(str(path)))
    assert [c.status for c in result.conversions] == ["converted"] * 6, [c.reason for c in result.conversions]
    for conversion in result.conversions:
        figures = conversion.verification
        assert figures["values_ok"] and figures["grad_ok"] and figures["grad_err"] is not None, figures
    assert "for " not in result.new and "tf.scan(" in result.new and "tf.cumsum(" in result.new


def test_a_rewrite_that_fails_once_traced_is_not_verified(tf, tmp_path):
    # the kept while loop shortens `out` each round: AutoGraph's loop requires carried tensors
    # to keep their shape, so traced (and converted) it raises where NumPy ran; --verify traces
    # what it verifies and leaves the site
    source = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def total(a):
            out = a
            while out.shape[0] > 1:
                out = out[1:] + out[:1][0]
            return out


        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def pipeline(a):
            return tf.numpy_function(total, [a], tf.float32)
        """)
    path = tmp_path / "loop.py"
    path.write_text(source)
    assert rewrite_source(source, str(path)).conversions[0].status == "converted"
    result = rewrite_source(source, str(path), verifier=make_verifier(str(path)))
    (conversion,) = result.conversions
    assert conversion.status == "left" and conversion.code == "RW400", conversion.reason
    assert "inside a tf.function" in conversion.reason and result.new == source


def test_argsort_sites_are_verified_on_inputs_without_ties(tf, tmp_path):
    """np.argsort's default kind leaves the order of ties open; the rewrite sorts stably. On
    probes with ties (int probes, variants with zeros) a right rewrite differed from NumPy and
    was left; the verifier now gives such sites distinct values, and the report lists the
    patterns of a lambda's body."""
    path = tmp_path / "ranks.py"
    path.write_text(textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def rank_rows(scores):
            return np.apply_along_axis(lambda r: np.argsort(np.argsort(r)), 1, scores)


        def rank_ints(scores):
            return np.argsort(scores)


        @tf.function(input_signature=[tf.TensorSpec([None, 50], tf.float32)])
        def program(scores):
            return tf.numpy_function(rank_rows, [scores], tf.int64)


        @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.int32)])
        def program_int(scores):
            return tf.numpy_function(rank_ints, [scores], tf.int64)
        """))
    report = tmp_path / "report.json"
    assert main(["fix", "--verify", "--jobs", "1", "--report", str(report), str(path)]) == 0
    sites = json.loads(report.read_text())["files"][0]["sites"]
    assert [site["status"] for site in sites] == ["converted", "converted"], [s["reason"] for s in sites]
    assert all("numpy.argsort" in site["patterns"] and site["verification"]["ok"] for site in sites)


def test_without_ties_keeps_dtype_shape_and_order():
    import numpy as np

    from rewriter.verify_sites import without_ties

    floats = np.array([[0.0, -1.5, 0.0], [2.0, 0.0, -1.5]], np.float32)
    ints = np.array([3, 3, 1, 0], np.int8)
    flags = np.array([True, False, True])
    new_floats, new_ints, new_flags = without_ties([floats, ints, flags])
    assert new_floats.dtype == floats.dtype and new_floats.shape == floats.shape
    assert len(np.unique(new_floats)) == floats.size and len(np.unique(new_ints)) == ints.size
    # ties broken in the order of the elements, every other order kept; values move by one step
    assert np.array_equal(np.argsort(new_floats, axis=None), np.argsort(floats, axis=None, kind="stable"))
    assert np.allclose(new_floats, floats, atol=1e-6)
    assert new_ints.dtype == np.int8 and np.array_equal(new_flags, flags)


def test_a_signature_with_module_constants_and_a_log_domain_is_verified(tf, tmp_path):
    """`TensorSpec([None, N_FEATURES])` declares 512 columns (a module constant), which the
    probe must have to broadcast against the 512 means; and `np.log1p` warns on the probe's
    negative values, so positive ones are tried next."""
    path = tmp_path / "features.py"
    path.write_text(textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf

        N_FEATURES = 512
        HALF = N_FEATURES // 2
        MEAN = np.linspace(0.5, 3.0, N_FEATURES, dtype=np.float32)


        def scale(x):
            return np.log1p(x) - MEAN


        def halves(x):
            return np.sqrt(x[:, :HALF] * x[:, HALF:])


        @tf.function(input_signature=[tf.TensorSpec([None, N_FEATURES], tf.float32),
                                      tf.TensorSpec([None, 2 * HALF], tf.float32)])
        def program(features, pairs):
            return (tf.numpy_function(scale, [features], tf.float32),
                    tf.numpy_function(halves, [pairs], tf.float32))
        """))
    report = tmp_path / "report.json"
    assert main(["fix", "--verify", "--jobs", "1", "--report", str(report), str(path)]) == 0
    sites = json.loads(report.read_text())["files"][0]["sites"]
    assert [site["status"] for site in sites] == ["converted", "converted"], [s["reason"] for s in sites]
    assert [site["verification"]["inputs"] for site in sites] == [["float32[6, 512]"], ["float32[6, 512]"]]
