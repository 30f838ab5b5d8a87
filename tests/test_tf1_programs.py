"""TF1-style programs (placeholders, `tf.compat.v1.py_func`, Session.run): placeholders declare
the site's inputs, a file that imports `tensorflow.compat.v1 as tf` keeps that name, and the
rewritten program runs under graph mode exactly like the original."""
import subprocess
import sys
import textwrap

import numpy as np

from rewriter.cli import main
from rewriter.pipeline import rewrite_source

TF1_SCRIPT = textwrap.dedent("""\
    import numpy as np
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()


    def _scale(pcm):
        x = pcm / 32768.0
        return (x - x.mean(axis=-1, keepdims=True)).astype(np.float32)


    def build():
        pcm = tf.placeholder(tf.int16, [None, 64])
        scaled = tf.py_func(_scale, [pcm], tf.float32)
        return pcm, scaled
    """)


def test_placeholder_declares_the_input_so_one_body_is_written():
    source = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def _counts(x):
            return np.log1p(x).astype(np.float32)


        def build():
            x = tf.compat.v1.placeholder(tf.float64, shape=[None, 8])
            return x, tf.compat.v1.py_func(_counts, [x], tf.float32)
        """)
    result = rewrite_source(source, "counts.py")
    (conversion,) = result.conversions
    assert conversion.status == "converted" and "declared" in conversion.assumed
    # declared float64 of rank 2: one body, no dispatch on dtype or rank, no fallback
    assert "return tf.cast(tf.math.log1p(x), tf.float32)" in result.new
    assert "py_func" not in result.new and ".dtype" not in result.new
    assert "    return x, _counts(x)" in result.new
    # the same input passed in undeclared needs a body per dtype and a fallback
    undeclared = rewrite_source(source.replace("def build():", "def build(x):").replace(
        "    x = tf.compat.v1.placeholder(tf.float64, shape=[None, 8])\n", ""), "counts.py")
    assert "x.dtype" in undeclared.new and "py_func(_counts" in undeclared.new


def test_placeholder_of_unknown_shape_still_declares_the_dtype():
    source = TF1_SCRIPT.replace("[None, 64]", "None")
    result = rewrite_source(source, "pcm.py")
    (conversion,) = result.conversions
    assert conversion.status == "converted"
    assert "tf2.int16" not in result.new and "pcm.dtype" not in result.new


def test_compat_v1_alias_is_kept_and_tf2_code_gets_its_own_name():
    result = rewrite_source(TF1_SCRIPT, "pcm.py")
    assert result.changed
    lines = result.new.splitlines()
    assert lines[1:4] == ["import tensorflow.compat.v1 as tf", "import tensorflow as tf2", ""]
    assert "tf.disable_v2_behavior()" in result.new and "tf.placeholder(tf.int16, [None, 64])" in result.new
    assert "tf2.cast(pcm, tf2.float64) / 32768.0" in result.new
    assert "scaled = _scale(pcm)" in result.new


def _run_graph_mode(path, feed):
    """The script's graph built and run under tf.compat.v1 graph mode, in a fresh process
    (disable_v2_behavior cannot be undone in this one)."""
    code = textwrap.dedent(f"""\
        import importlib.util, sys
        import numpy as np
        spec = importlib.util.spec_from_file_location("prog", {str(path)!r})
        prog = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(prog)
        tf = prog.tf
        assert not tf.executing_eagerly()
        pcm, scaled = prog.build()
        ops = {{op.type for op in tf.get_default_graph().get_operations()}}
        with tf.Session() as session:
            out = session.run(scaled, {{pcm: np.load(sys.argv[1])}})
        np.save(sys.argv[1], out)
        print(sorted(ops & {{"PyFunc", "PyFuncStateless", "EagerPyFunc"}}))
        """)
    feed_file = path.with_suffix(".npy")
    np.save(feed_file, feed)
    done = subprocess.run([sys.executable, "-c", code, str(feed_file)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return np.load(feed_file), done.stdout.strip()


def test_rewritten_tf1_program_runs_in_graph_mode_like_the_original(tmp_path):
    original, rewritten = tmp_path / "original.py", tmp_path / "rewritten.py"
    original.write_text(TF1_SCRIPT)
    rewritten.write_text(rewrite_source(TF1_SCRIPT, str(rewritten)).new)
    pcm = np.random.default_rng(3).integers(-32768, 32768, size=(5, 64)).astype(np.int16)
    expected, callbacks_before = _run_graph_mode(original, pcm)
    actual, callbacks_after = _run_graph_mode(rewritten, pcm)
    assert callbacks_before == "['PyFunc']" and callbacks_after == "[]"
    assert actual.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-7)


def test_verify_runs_a_module_that_switches_eager_execution_off(tf, tmp_path):
    path = tmp_path / "legacy.py"
    path.write_text(TF1_SCRIPT)
    assert main(["fix", "--verify", "--jobs", "1", str(path)]) == 0
    assert "tf2.cast" in path.read_text()
    assert tf.executing_eagerly(), "running the user's module switched this process to graph mode"


STRAIGHT_THROUGH = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    @tf.RegisterGradient("StraightThroughSign")
    def _straight_through(op, grad):
        return grad


    def binarize(x):
        return np.sign(x).astype(np.float32)


    def gradient_of_binarized(values):
        graph = tf.Graph()
        with graph.as_default():
            x = tf.constant(values)
            with graph.gradient_override_map({"PyFunc": "StraightThroughSign"}):
                y = tf.compat.v1.py_func(binarize, [x], tf.float32)
            (grad,) = tf.gradients(tf.reduce_sum(y * 3.0), [x])
            with tf.compat.v1.Session(graph=graph) as session:
                return session.run(grad)
    """)


def test_a_site_whose_gradient_is_overridden_is_left(tf, tmp_path):
    """A straight-through estimator registers the gradient of the PyFunc op by type; a native
    rewrite makes no such op, so its gradient (sign's: zero) would silently replace it."""
    result = rewrite_source(STRAIGHT_THROUGH, "ste.py")
    (conversion,) = result.conversions
    assert (conversion.status, conversion.code) == ("left", "RW112"), conversion.reason
    assert result.new == STRAIGHT_THROUGH
    path = tmp_path / "ste.py"
    path.write_text(result.new)
    namespace = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    values = np.array([-2.0, 0.5, 3.0], np.float32)
    np.testing.assert_array_equal(namespace["gradient_of_binarized"](values), [3.0, 3.0, 3.0])
