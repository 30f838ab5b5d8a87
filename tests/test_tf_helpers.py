"""The NumPy-exact helpers (`rewriter/tf_helpers.py`): against NumPy itself, and how a
rewritten file gets them (once, in one marked block, under a name the file does not use)."""
from __future__ import annotations

import ast
import textwrap

import numpy as np
import pytest

from rewriter import helper_source
from rewriter.pipeline import rewrite_source

LENGTHS = (-3, 0, 1, 2, 3, 8, 101)
WINDOWS = ("hanning", "hamming", "blackman", "bartlett")


@pytest.fixture(scope="module")
def helpers(tf):
    from rewriter import tf_helpers

    return tf_helpers


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("given_as", ["python int", "int32", "int64", "traced int32"])
def test_windows_match_numpy(tf, helpers, name, given_as):
    helper = getattr(helpers, f"np_{name}")
    if given_as == "traced int32":
        helper = tf.function(helper, input_signature=[tf.TensorSpec([], tf.int32)])
    for m in LENGTHS:
        argument = m if given_as == "python int" else tf.constant(m, {"int64": tf.int64}.get(given_as, tf.int32))
        got = helper(argument).numpy()
        want = getattr(np, name)(m)
        assert got.dtype == want.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-16, err_msg=f"M={m}")


@pytest.mark.parametrize("beta", [0.0, 6.0, 8.6, 3, "float32 tensor"])
def test_kaiser_matches_numpy(tf, helpers, beta):
    for m in LENGTHS:
        argument = tf.constant(np.float32(2.5)) if beta == "float32 tensor" else beta
        want = np.kaiser(m, np.float32(2.5) if beta == "float32 tensor" else beta)
        got = helpers.np_kaiser(tf.constant(m), argument).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-16, err_msg=f"M={m}, beta={beta}")


def test_every_helper_says_which_numpy_call_it_is():
    for name, text in helper_source._sources().items():
        docstring = ast.get_docstring(ast.parse(text).body[0])
        assert name.startswith("np_") and docstring.startswith(f"np.{name[3:]}("), name
        assert "import" not in text and "np." not in text.replace(docstring, ""), "helpers need only tf"


SOURCE = '''\
import numpy as np
import tensorflow as tf


def spectrum(frames):
    return np.abs(np.fft.rfft(frames * np.hanning(frames.shape[-1]))) ** 2


@tf.function
def program(frames):
    return tf.numpy_function(spectrum, [frames], tf.float64)  # rewriter: args=frames:float64[None,None]
'''


def test_a_file_gets_each_helper_once_in_one_block_after_its_imports():
    new = rewrite_source(SOURCE, "m.py").new
    assert new.count(helper_source.BLOCK_START) == 1 and new.count("def np_hanning(") == 1
    assert new.index("import tensorflow as tf") < new.index(helper_source.BLOCK_START) < new.index("def spectrum")
    assert "np_hanning(tf.shape(frames)[-1])" in new
    assert "__rw_" not in new
    assert "import tensorflow as tf\n\n\n# -- rewriter helpers" in new
    assert "# -- end of rewriter helpers --\n\n\ndef spectrum" in new
    assert rewrite_source(new, "m.py").new == new, "a second run changes nothing"


def test_a_second_site_needing_a_helper_reuses_the_block():
    first = rewrite_source(SOURCE, "m.py").new
    more = first + textwrap.dedent('''

        def taper(x):
            return x * np.hamming(x.shape[-1]) * np.hanning(x.shape[-1])


        @tf.function
        def program2(x):
            return tf.numpy_function(taper, [x], tf.float64)  # rewriter: args=x:float64[None]
        ''')
    new = rewrite_source(more, "m.py").new
    assert new.count(helper_source.BLOCK_START) == 1
    assert new.count("def np_hanning(") == 1 and new.count("def np_hamming(") == 1
    block = new.split(helper_source.BLOCK_START)[1].split(helper_source.BLOCK_END)[0]
    assert "def np_hamming(" in block


def test_a_helper_takes_another_name_when_the_file_uses_its_own():
    source = SOURCE.replace("def spectrum", "def np_hanning(n):\n    return n\n\n\ndef spectrum")
    new = rewrite_source(source, "m.py").new
    assert "def np_hanning2(m):" in new and "np_hanning2(tf.shape(frames)[-1])" in new
    assert "def np_hanning(n):\n    return n\n" in new


def test_helpers_speak_the_files_tensorflow_alias():
    source = SOURCE.replace("import tensorflow as tf", "import tensorflow as tfl").replace("tf.", "tfl.")
    new = rewrite_source(source, "m.py").new
    assert "tfl.cast(tfl.maximum(m, 0), tfl.float64)" in new and " tf." not in new


def test_the_rewritten_file_runs_and_matches_the_original(tf):
    new = rewrite_source(SOURCE, "m.py").new
    original, rewritten = {}, {}
    exec(compile(SOURCE, "original", "exec"), original)
    exec(compile(new, "rewritten", "exec"), rewritten)
    frames = np.random.default_rng(0).normal(size=(3, 9))
    np.testing.assert_allclose(rewritten["program"](frames).numpy(), original["program"](frames).numpy(),
                               rtol=1e-12, atol=1e-12)
