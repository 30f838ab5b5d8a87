"""A repository of modules that import one another's NumPy functions still runs after
`rewriter fix .`, and a second run changes nothing; `# rewriter: off` keeps a site as it is."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from rewriter.cli import main
from rewriter.pipeline import rewrite_source

PREP = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def standardize(x):
        return (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6)


    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def pipeline(x):
        return tf.numpy_function(standardize, [x], tf.float32)
    """)

STATS = textwrap.dedent("""\
    import numpy as np

    from prep import standardize


    def summary(a):
        return standardize(a).round(3).tolist()  # NumPy methods: a tensor has neither
    """)

MAIN = textwrap.dedent("""\
    import numpy as np

    import prep
    import stats

    a = np.arange(12, dtype=np.float32).reshape(3, 4) ** 1.5
    print(stats.summary(a))
    print(np.round(prep.pipeline(a).numpy(), 3).tolist())
    """)


def _run(folder) -> str:
    done = subprocess.run([sys.executable, "main.py"], cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _snapshot(folder) -> dict:
    return {p.name: p.read_text() for p in sorted(folder.glob("*.py"))}


def test_a_function_another_module_imports_gets_a_copy_and_both_modules_still_run(tmp_path):
    for name, text in (("prep.py", PREP), ("stats.py", STATS), ("main.py", MAIN)):
        (tmp_path / name).write_text(text)
    before = _run(tmp_path)
    assert main(["fix", str(tmp_path), "--quiet"]) == 0
    prep = (tmp_path / "prep.py").read_text()
    assert "def standardize(x):\n    return (x - x.mean(axis=0))" in prep  # left for stats.py
    assert "def standardize_tf(x):" in prep and "return standardize_tf(x)" in prep
    assert _run(tmp_path) == before
    first = _snapshot(tmp_path)
    assert main(["fix", str(tmp_path), "--quiet"]) == 0
    assert _snapshot(tmp_path) == first  # a second run changes nothing


def test_the_same_file_alone_is_rewritten_in_place(tmp_path):
    (tmp_path / "prep.py").write_text(PREP)
    assert main(["fix", str(tmp_path), "--quiet"]) == 0
    prep = (tmp_path / "prep.py").read_text()
    assert "standardize_tf" not in prep and "tf.reduce_mean(x, axis=0)" in prep


def test_public_functions_of_a_package_module_are_never_edited_in_place(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "prep.py").write_text(PREP + "\n\ndef _private(x):\n    return x * 2\n\n\n"
                                     "def doubled(x):\n    return tf.numpy_function(_private, [x], tf.float32)"
                                     "  # rewriter: args=float32[None]\n")
    assert main(["fix", str(package / "prep.py"), "--quiet"]) == 0
    prep = (package / "prep.py").read_text()
    assert "def standardize(x):\n    return (x - x.mean(axis=0))" in prep and "def standardize_tf(x):" in prep
    assert "def _private(x):\n    return x * 2\n" in prep and "_private_tf" not in prep  # private: in place


def test_rewriter_off_keeps_a_site_on_its_line_above_it_or_on_its_function():
    body = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def grow(x):
            return np.exp(x)


        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def one(x):
            return tf.numpy_function(grow, [x], tf.float32){same_line}


        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def two(x):{def_line}
            {above}
            return tf.numpy_function(grow, [x], tf.float32)
        """)
    plain = body.format(same_line="", def_line="", above="y = x")
    assert rewrite_source(plain, "x.py").changed
    for marks in ({"same_line": "  # rewriter: off", "def_line": "  # rewriter: off", "above": "y = x"},
                  {"same_line": "  # rewriter: off", "def_line": "", "above": "# rewriter: off"}):
        source = body.format(**marks)
        result = rewrite_source(source, "x.py")
        assert result.new == source and result.conversions == []
