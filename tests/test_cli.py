"""The `rewriter` command: exit codes, --diff/--check, writes, bad input, file handling."""
import json
import subprocess
import sys
import textwrap

import pytest

from rewriter.cli import main
from rewriter.pipeline import rewrite_source

SITE = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def scale(x):
        return np.sqrt(x)


    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def pipeline(x):
        return tf.numpy_function(scale, [x], tf.float32)
    """)
NO_SITE = "import numpy as np\n\nTABLE = np.arange(10)  # static data stays NumPy\n"


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "site.py").write_text(SITE)
    (tmp_path / "pkg" / "plain.py").write_text(NO_SITE)
    return tmp_path


def run(*args):
    return main([str(a) for a in args])


def test_fix_rewrites_and_leaves_other_files_byte_identical(tree, capsys):
    assert run("fix", tree) == 0
    assert "tf.sqrt(x)" in (tree / "pkg" / "site.py").read_text()
    assert (tree / "pkg" / "plain.py").read_text() == NO_SITE
    err = capsys.readouterr().err
    assert "2 files scanned, 1 changed, 1 site found: 1 converted, 0 left, 0 errors" in err


def test_second_run_changes_nothing(tree, capsys):
    run("fix", tree)
    once = (tree / "pkg" / "site.py").read_text()
    assert run("fix", "--check", tree) == 0
    assert (tree / "pkg" / "site.py").read_text() == once


def test_diff_prints_and_writes_nothing(tree, capsys):
    assert run("fix", "--diff", tree) == 0
    out = capsys.readouterr().out
    assert "-    return np.sqrt(x)" in out and "+    return tf.sqrt(x)" in out
    assert (tree / "pkg" / "site.py").read_text() == SITE


def test_check_exits_one_when_changes_are_needed(tree):
    assert run("fix", "--check", tree) == 1
    assert (tree / "pkg" / "site.py").read_text() == SITE


def test_bad_files_are_reported_and_the_run_goes_on(tree, capsys):
    (tree / "pkg" / "broken.py").write_text("def f(:\n")
    (tree / "pkg" / "binary.py").write_bytes(b"x = '\xff\xfe'\n")
    missing = tree / "missing.py"
    assert run("fix", tree, missing) == 2
    err = capsys.readouterr().err
    assert "broken.py: error: syntax error" in err
    assert "binary.py: error: cannot decode the file" in err
    assert f"{missing}: no such file or directory" in err
    assert "Traceback" not in err
    assert "tf.sqrt" in (tree / "pkg" / "site.py").read_text()  # the good file was still fixed
    assert (tree / "pkg" / "broken.py").read_text() == "def f(:\n"


def test_unreadable_file(tree, capsys, monkeypatch):
    # Root reads any file whatever its mode, so the refusal is simulated at the OS boundary.
    import pathlib

    path = tree / "pkg" / "secret.py"
    path.write_text(SITE)
    real_read_bytes = pathlib.Path.read_bytes

    def read_bytes(self):
        if self.name == "secret.py":
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    assert run("fix", "--jobs", "1", tree) == 2
    assert "secret.py: error: permission denied" in capsys.readouterr().err
    assert path.read_text() == SITE


def test_crlf_and_mode_are_kept(tree):
    path = tree / "pkg" / "site.py"
    path.write_bytes(SITE.replace("\n", "\r\n").encode())
    path.chmod(0o751)
    assert run("fix", path) == 0
    data = path.read_bytes()
    assert b"tf.sqrt(x)\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert (path.stat().st_mode & 0o777) == 0o751


def test_encoding_declaration_is_respected(tree):
    path = tree / "pkg" / "latin.py"
    path.write_bytes(("# -*- coding: latin-1 -*-\n# caf\xe9\n" + SITE).encode("latin-1"))
    assert run("fix", path) == 0
    assert path.read_bytes().startswith(b"# -*- coding: latin-1 -*-\n# caf\xe9\n")
    assert "tf.sqrt(x)" in path.read_text(encoding="latin-1")


def test_skipped_folders_and_gitignore(tree):
    for folder in (".venv", "build", "node_modules", "generated"):
        (tree / folder).mkdir()
        (tree / folder / "site.py").write_text(SITE)
    (tree / ".gitignore").write_text("generated/\n")
    assert run("fix", tree) == 0
    for folder in (".venv", "build", "node_modules", "generated"):
        assert (tree / folder / "site.py").read_text() == SITE


def test_symlink_out_of_the_tree_is_not_followed(tree, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "target.py"
    outside.write_text(SITE)
    (tree / "pkg" / "link.py").symlink_to(outside)
    assert run("fix", tree) == 0
    assert outside.read_text() == SITE


def test_left_sites_are_listed_with_their_reason(tree, capsys):
    (tree / "pkg" / "left.py").write_text(textwrap.dedent("""\
        import tensorflow as tf
        from helpers import preprocess


        def pipeline(x):
            return tf.numpy_function(preprocess, [x], tf.float32)
        """))
    assert run("fix", "-v", tree) == 0
    err = capsys.readouterr().err
    assert "left.py:6:12: RW105 left numpy_function: `preprocess` is not a function defined in this file" in err
    assert "reasons sites were left:\n     1  RW105" in err


def test_select_and_ignore(tree):
    assert run("fix", "--ignore", "RW001", tree) == 0
    assert (tree / "pkg" / "site.py").read_text() == SITE
    assert run("fix", "--select", "RW002", tree) == 0
    assert (tree / "pkg" / "site.py").read_text() == SITE
    assert run("fix", "--select", "RW001", tree) == 0
    assert "tf.sqrt" in (tree / "pkg" / "site.py").read_text()


def test_parallel_run_matches_serial(tmp_path):
    for i in range(12):
        (tmp_path / f"m{i}.py").write_text(SITE)
    assert run("fix", "--jobs", "2", tmp_path) == 0
    assert all("tf.sqrt(x)" in (tmp_path / f"m{i}.py").read_text() for i in range(12))


def test_report_json(tree):
    import json

    report = tree / "report.json"
    assert run("fix", "--diff", "--report", report, tree) == 0
    data = json.loads(report.read_text())
    assert data["summary"]["converted"] == 1
    (site,) = [s for f in data["files"] for s in f["sites"]]
    assert site["status"] == "converted" and site["line"] == 11 and "numpy.sqrt" in site["patterns"]


def test_patterns_json_lists_the_library(capsys):
    import json

    assert run("patterns", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"numpy", "tf", "notes"} <= rows[0].keys()
    assert any(r["numpy"] == "numpy.fft.rfft" for r in rows)


def test_fix_without_verify_does_not_import_tensorflow(tree):
    code = ("import sys; from rewriter.cli import main; main(['fix', '--diff', sys.argv[1]]); "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tree)], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False")


def test_module_entry_point_and_help():
    out = subprocess.run([sys.executable, "-m", "rewriter", "fix", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "--check" in out.stdout and "Exit status" in out.stdout


def test_pyproject_settings_apply_and_flags_override(tree, capsys):
    (tree / "pyproject.toml").write_text('[tool.rewriter]\nignore = ["RW001"]\n')
    assert run("fix", tree) == 0
    assert (tree / "pkg" / "site.py").read_text() == SITE
    assert run("fix", "--ignore", "", tree) == 0
    assert "tf.sqrt" in (tree / "pkg" / "site.py").read_text()


def test_unknown_pyproject_key_is_an_error_naming_it(tree, capsys):
    (tree / "pyproject.toml").write_text('[tool.rewriter]\nexclud = ["x"]\n')
    assert run("fix", tree) == 2
    assert "unknown key `tool.rewriter.exclud`" in capsys.readouterr().err
    assert (tree / "pkg" / "site.py").read_text() == SITE


def test_check_lists_diagnostics_and_exits_one(tree, capsys):
    assert run("check", tree / "pkg" / "plain.py") == 0
    assert run("check", tree) == 1
    out = capsys.readouterr().out
    assert f"{tree / 'pkg' / 'site.py'}:11:12: RWC001" in out
    assert run("check", "--output-format", "json", tree) == 1
    import json

    (diagnostic,) = json.loads(capsys.readouterr().out)
    assert diagnostic["code"] == "RWC001" and diagnostic["line"] == 11


def test_notebooks_are_rewritten_cell_by_cell(tree):
    import json

    cells = [
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
         "source": ["import numpy as np\n", "import tensorflow as tf"]},
        {"cell_type": "code", "execution_count": 2, "metadata": {"tags": ["keep"]},
         "outputs": [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}],
         "source": ["def scale(x):\n", "    return np.sqrt(x)\n", "\n",
                    "y = tf.numpy_function(scale, [tf.ones(3)], tf.float32)  # rewriter: args=float32[None]"]},
    ]
    notebook = {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    path = tree / "analysis.ipynb"
    path.write_text(json.dumps(notebook, indent=1) + "\n")
    assert run("fix", path) == 0
    data = json.loads(path.read_text())
    assert "".join(data["cells"][1]["source"]).count("tf.sqrt(x)") == 1
    assert data["cells"][1]["outputs"] == cells[1]["outputs"] and data["cells"][1]["metadata"] == {"tags": ["keep"]}
    assert data["cells"][0] == cells[0]


USER_PATTERNS = textwrap.dedent('''\
    from rewriter.pattern import Domain, Pattern

    FAMILY_CODE = "USR"
    PATTERNS = (
        Pattern("numpy.i0", examples=("np.i0(a)",), domain=Domain(dtypes=("float64",), grad=False),
                tf="tf.math.bessel_i0(x)"),
    )
    ''')


def test_project_patterns_are_used_listed_and_self_tested(tmp_path, capsys, monkeypatch, tf):
    (tmp_path / "pyproject.toml").write_text('[tool.rewriter]\npatterns = ["project_patterns"]\n')
    (tmp_path / "project_patterns.py").write_text(USER_PATTERNS)
    site = tmp_path / "site.py"
    site.write_text(SITE.replace("np.sqrt(x)", "np.i0(x)").replace("tf.float32", "tf.float64"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    import rewriter.registry

    # The test is about a project's own pattern: the shipped library must not cover np.i0.
    assert rewriter.registry.default().get("numpy.i0") is None
    assert run("fix", site) == 0
    assert "tf.math.bessel_i0(x)" in site.read_text()
    capsys.readouterr()
    assert run("patterns", "--json") == 0
    assert any(row["numpy"] == "numpy.i0" and row["code"] == "USR000" for row in json.loads(capsys.readouterr().out))
    assert run("patterns", "--test", "numpy.i0") == 0
    assert "ok    numpy.i0" in capsys.readouterr().out


def test_unknown_select_or_ignore_codes_are_an_error_not_silence(tree, capsys):
    for command in (("fix", "--select", "FOO"), ("fix", "--ignore", "RW999"), ("check", "--select", "BAR")):
        assert run(*command, tree) == 2
        err = capsys.readouterr().err
        assert "error: select/ignore: no rule code starts with" in err and command[-1] in err
    assert (tree / "pkg" / "site.py").read_text() == SITE  # nothing was written
    assert run("fix", "--select", "NPE", "--diff", tree) == 0  # a family prefix is a known code


def test_diff_and_check_say_what_would_change_and_check_lists_the_files(tree, capsys):
    assert run("fix", "--diff", tree) == 0
    err = capsys.readouterr().err
    assert "1 would change" in err and "1 changed" not in err
    assert run("fix", "--check", tree) == 1
    err = capsys.readouterr().err
    assert "would fix " in err and "1 would change" in err


def test_a_missing_path_counts_as_an_error_in_the_summary(tmp_path, capsys):
    assert run("fix", tmp_path / "nonexistent.py") == 2
    err = capsys.readouterr().err
    assert "no such file or directory" in err and "1 error" in err and "0 errors" not in err


def test_check_exits_2_on_a_file_it_cannot_parse(tmp_path, capsys):
    (tmp_path / "bad.py").write_text("import numpy as np\ndef f(:\n")
    assert run("check", tmp_path / "bad.py") == 2
    assert "RWC900 syntax error" in capsys.readouterr().out


NOISE = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def noise(x):
        return (x + np.random.normal(size=x.shape)).astype(np.float32)


    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def pipeline(x):
        return tf.numpy_function(noise, [x], tf.float32)
    """)


def test_check_and_fix_agree_when_the_config_ignores_a_pattern_family(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.rewriter]\nignore = ["NPG"]\n')
    (tmp_path / "noise.py").write_text(NOISE)
    assert run("fix", "--check", tmp_path) == 0          # fix leaves the random site
    assert run("check", tmp_path) == 0                   # so check does not ask for `rewriter fix`
    assert "rewriter fix" not in capsys.readouterr().out
    (tmp_path / "pyproject.toml").write_text("[tool.rewriter]\n")
    assert run("fix", "--check", tmp_path) == 1
    assert run("check", tmp_path) == 1
    assert "RWC001" in capsys.readouterr().out


def test_stdin_in_stdout_out_for_editors(monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(SITE))
    assert run("fix", "-") == 0
    out = capsys.readouterr().out
    assert out == rewrite_source(SITE, "<stdin>").new and out != SITE
    monkeypatch.setattr(sys, "stdin", io.StringIO(SITE))
    assert run("fix", "-", "--check") == 1 and capsys.readouterr().out == ""
    monkeypatch.setattr(sys, "stdin", io.StringIO("def f(:\n"))
    assert run("fix", "-", "--stdin-filename", "src/x.py") == 2
    captured = capsys.readouterr()
    assert captured.out == "def f(:\n" and "src/x.py: error: syntax error" in captured.err


def test_diffs_are_coloured_only_on_a_terminal(monkeypatch):
    from rewriter.cli import _colored

    diff = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-old\n+new\n"
    assert _colored(diff) == diff  # captured: not a terminal
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = _colored(diff)
    assert "\033[31m-old\033[0m\n" in coloured and "\033[32m+new\033[0m\n" in coloured
    monkeypatch.setenv("NO_COLOR", "1")
    assert _colored(diff) == diff


def test_a_file_named_on_the_command_line_is_taken_even_outside_include(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.rewriter]\ninclude = ["src/**"]\n')
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "site.py").write_text(SITE)
    assert run("fix", "--check", tmp_path) == 0                      # the folder: include applies
    assert run("fix", "--check", tmp_path / "tools" / "site.py") == 1  # the file itself: taken
    assert "would fix" in capsys.readouterr().err


def test_show_takes_a_file_path(tmp_path, capsys):
    (tmp_path / "feat.py").write_text("import numpy as np\n\n\ndef norm(x):\n"
                                      "    return x / np.linalg.norm(x, axis=-1, keepdims=True)\n")
    assert run("show", f"{tmp_path / 'feat.py'}:norm", "--args", "float32[None,8]") == 0
    assert "tf.reduce_sum(tf.square(x), axis=1, keepdims=True)" in capsys.readouterr().out
    assert run("show", f"{tmp_path / 'missing.py'}:norm", "--args", "float32[None,8]") == 2
    assert "error: cannot load" in capsys.readouterr().err


def test_patterns_self_test_silences_tensorflows_retracing_warnings(tf, capsys):
    import logging

    before = tf.get_logger().level
    tf.get_logger().setLevel("WARNING")
    try:
        assert run("patterns", "--test", "numpy.exp") == 0
        assert "ok    numpy.exp" in capsys.readouterr().out
        # every example is traced on purpose: TF's "triggered tf.function retracing" warnings (one
        # per few patterns, 198 over the library) would bury the results
        assert tf.get_logger().getEffectiveLevel() >= logging.ERROR
    finally:
        tf.get_logger().setLevel(before)


def test_show_prints_no_tensorflow_start_up_lines(tmp_path):
    (tmp_path / "feat.py").write_text("import numpy as np\nimport tensorflow as tf\n\n\ndef norm(x):\n"
                                      "    return x / np.linalg.norm(x, axis=-1, keepdims=True)\n")
    done = subprocess.run([sys.executable, "-m", "rewriter", "show", f"{tmp_path / 'feat.py'}:norm",
                           "--args", "float32[None,8]"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "def norm(x):" in done.stdout
    assert done.stderr.strip().splitlines() == ["# converted with: numpy.linalg.norm, numpy.true_divide"]


def test_bench_times_the_sites_of_a_users_own_file(tmp_path, capsys):
    (tmp_path / "mine.py").write_text(SITE)
    assert run("bench", tmp_path / "mine.py", "--repeats", "3") == 0
    out = capsys.readouterr().out
    header, row = out.splitlines()[:2]
    assert header.split()[:3] == ["site", "function", "inputs"]
    assert "mine.py:11" in row and row.split()[1] == "scale" and row.rstrip().endswith("x")
    (tmp_path / "plain.py").write_text(NO_SITE)
    assert run("bench", tmp_path / "plain.py") == 2
    assert "no converted site could be timed" in capsys.readouterr().err


def test_verify_keeps_tensorflow_and_user_output_out_of_the_diff_and_shows_it_with_v(tmp_path):
    (tmp_path / "mine.py").write_text('print("imported")\n' + SITE)
    done = subprocess.run([sys.executable, "-m", "rewriter", "fix", "--verify", "--diff", "-q", str(tmp_path / "mine.py")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("--- ") and "tf.sqrt(x)" in done.stdout
    assert "imported" not in done.stdout.replace('print("imported")', "")
    assert done.stderr == ""  # neither TensorFlow's start-up and pfor lines nor the module's print
    verbose = subprocess.run([sys.executable, "-m", "rewriter", "fix", "--verify", "--diff", "-v", str(tmp_path / "mine.py")],
                             capture_output=True, text=True, timeout=300)
    assert "the code printed while verified: imported" in verbose.stderr  # shown with -v
