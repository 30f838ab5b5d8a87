""".ipynb files: rewrite code cells with the whole notebook as context, keep everything else."""
import json

from rewriter.notebooks import check_notebook, rewrite_notebook

IMPORTS = "import numpy as np\nimport tensorflow as tf"
FUNCTION = ("def standardize_rows(x):\n"
            "    mu = x.mean(axis=1, keepdims=True)\n"
            "    sd = x.std(axis=1, keepdims=True)\n"
            "    return ((x - mu) / (sd + 1e-6)).astype(np.float32)")
SITE = ("@tf.function(input_signature=[tf.TensorSpec([None, 128], tf.float32)])\n"
        "def program(x):\n"
        "    return tf.numpy_function(standardize_rows, [x], tf.float32)\n")
OUTPUT = {"name": "stdout", "output_type": "stream", "text": ["héllo\n", "0.1 1e-07\n"]}


def lines(text: str) -> list:
    """nbformat's list form of a cell source."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def code(source, count=None, outputs=(), **metadata) -> dict:
    return {"cell_type": "code", "execution_count": count, "metadata": dict(metadata), "outputs": list(outputs),
            "source": source}


def notebook(*cells, language="python") -> dict:
    return {"cells": list(cells),
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": language, "name": "python3"},
                         "language_info": {"name": language, "version": "3.11.7"}},
            "nbformat": 4, "nbformat_minor": 5}


def dump(nb: dict, **kwargs) -> str:
    """As nbformat writes it: sorted keys, indent=1, raw UTF-8, a final newline."""
    options = {"indent": 1, "sort_keys": True, "ensure_ascii": False} | kwargs
    return json.dumps(nb, **options) + "\n"


def example(**kwargs) -> dict:
    return notebook(
        {"cell_type": "markdown", "metadata": {}, "source": ["# Standardize\n", "rows of features"]},
        code(lines(IMPORTS), 1, tags=["setup"]),
        code(lines(FUNCTION), 2, [OUTPUT]),
        code(SITE, 3, collapsed=False),   # a source held as one string
        **kwargs)


def test_imports_in_one_cell_and_the_site_in_another():
    nb = example()
    text = dump(nb)
    result = rewrite_notebook(text, "nb.ipynb")
    assert result.error == ""
    assert result.changed
    new = json.loads(result.new)
    # the function cell (list form) and the site cell (string form) are rewritten, in their form
    function_cell, site_cell = new["cells"][2]["source"], new["cells"][3]["source"]
    assert isinstance(function_cell, list) and isinstance(site_cell, str)
    assert "".join(function_cell) == (
        "def standardize_rows(x):\n"
        "    mu = tf.reduce_mean(x, axis=1, keepdims=True)\n"
        "    sd = tf.sqrt(tf.math.reduce_variance(x, axis=1, keepdims=True))\n"
        "    return tf.cast((x - mu) / (sd + 1e-6), tf.float32)")
    assert not function_cell[-1].endswith("\n")  # the cell had no final newline, and still has none
    assert "y = " not in site_cell and "return standardize_rows(x)\n" in site_cell
    # the conversion is located in its cell
    [conversion] = result.conversions
    assert (conversion.status, conversion.cell, conversion.line) == ("converted", 4, 3)


def test_outputs_metadata_and_layout_are_untouched():
    nb = example()
    text = dump(nb)
    result = rewrite_notebook(text, "nb.ipynb")
    new = json.loads(result.new)
    for key in ("metadata", "nbformat", "nbformat_minor"):
        assert new[key] == nb[key]
    for old_cell, new_cell in zip(nb["cells"], new["cells"]):
        assert {k: v for k, v in new_cell.items() if k != "source"} == {k: v for k, v in old_cell.items()
                                                                       if k != "source"}
    assert new["cells"][0] == nb["cells"][0] and new["cells"][1] == nb["cells"][1]
    # only the lines of the rewritten sources differ; the rest of the file is byte-identical
    old_lines, new_lines = text.splitlines(), result.new.splitlines()
    assert len(old_lines) == len(new_lines)
    differing = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert len(differing) == 4
    markers = ("x.mean(", "x.std(", ".astype(np.float32)", '"source": "@tf.function')
    assert all(any(m in old for m in markers) for old, _ in differing)
    assert result.new.endswith("}\n") and "héllo" in result.new and "1e-07" in result.new


def test_layout_of_the_file_is_kept_when_splicing():
    # other writers: two-space indent, unsorted keys, JS-style numbers, escaped non-ASCII, no final newline
    text = json.dumps(example(), indent=2, ensure_ascii=True).replace("1e-07", "1e-7")
    text = text.replace('"nbformat": 4', '"nbformat": 4.0')
    result = rewrite_notebook(text, "nb.ipynb")
    assert result.changed
    assert not result.new.endswith("\n")
    assert "1e-7" in result.new and '"nbformat": 4.0' in result.new
    assert "h\\u00e9llo" in result.new
    assert '\n  "cells": [\n' in result.new
    assert "tf.reduce_mean" in "".join(json.loads(result.new)["cells"][2]["source"])


def test_notebook_without_a_site_is_byte_identical():
    text = dump(notebook(code(lines(IMPORTS), 1), code(["x = np.ones(3)\n", "print(x)"], 2, [OUTPUT])))
    odd = text.replace('"nbformat": 4', '"nbformat":4')   # not the way json.dumps writes it
    for given in (text, odd):
        result = rewrite_notebook(given, "nb.ipynb")
        assert result.new is given or result.new == given
        assert not result.changed and result.error == ""


def test_invalid_json_is_an_error_and_the_text_is_kept():
    text = '{"cells": [\n  {"cell_type": "code",,}\n'
    result = rewrite_notebook(text, "bad.ipynb")
    assert result.error.startswith("invalid notebook JSON")
    assert result.error_line == 2
    assert result.new == text and not result.changed
    not_a_notebook = rewrite_notebook("[1, 2]", "list.ipynb")
    assert "not a Jupyter notebook" in not_a_notebook.error and not_a_notebook.new == "[1, 2]"


def test_magics_and_shell_lines_are_kept_and_lines_stay_right():
    function_cell = "%matplotlib inline\n!pip install -q numpy\n" + FUNCTION
    site_cell = "  %time y = 1\n" + SITE   # an indented line magic
    nb = notebook(code(lines(IMPORTS)), code(lines(function_cell)), code(lines(site_cell)))
    result = rewrite_notebook(dump(nb), "nb.ipynb")
    assert result.error == "" and result.changed
    cells = ["".join(c["source"]) for c in json.loads(result.new)["cells"]]
    assert cells[1].startswith("%matplotlib inline\n!pip install -q numpy\ndef standardize_rows(x):\n")
    assert "tf.reduce_mean" in cells[1]
    assert cells[2].startswith("  %time y = 1\n@tf.function")
    [conversion] = result.conversions
    assert (conversion.cell, conversion.line) == (3, 4)


def test_cell_magics_and_ipython_syntax_cells_are_skipped():
    bash_site = "%%time\n" + IMPORTS + "\n" + FUNCTION + "\n" + SITE
    ipython_only = "files = !ls\nfiles?"
    nb = notebook(code(lines(bash_site)), code(lines(ipython_only)))
    text = dump(nb)
    result = rewrite_notebook(text, "nb.ipynb")
    assert result.new == text and result.conversions == [] and result.error == ""


def test_a_copy_of_a_function_and_a_new_import_stay_in_their_cells():
    # f is also called directly, so a `f_tf` copy is added after it; `tf` is not imported as a
    # module, so `import tensorflow as tf` is added after the imports
    nb = notebook(
        code(["import numpy as np\n", "from tensorflow import numpy_function, float32"]),
        code(["def f(x):\n", "    return np.exp(x)"]),
        code(["y = numpy_function(f, [x], float32)\n", "z = f(3.0)"]),
    )
    result = rewrite_notebook(dump(nb), "nb.ipynb")
    assert result.error == "" and result.changed
    cells = ["".join(c["source"]) for c in json.loads(result.new)["cells"]]
    assert cells[0] == "import numpy as np\nfrom tensorflow import numpy_function, float32\nimport tensorflow as tf"
    assert cells[1].startswith("def f(x):\n    return np.exp(x)\n") and "def f_tf(x):" in cells[1]
    assert not cells[1].endswith("\n")
    assert cells[2] == "y = f_tf(tf.convert_to_tensor(x))\nz = f(3.0)"


def test_other_languages_are_left_alone():
    nb = notebook(code(lines(IMPORTS)), code(lines(FUNCTION)), code(SITE), language="R")
    text = dump(nb)
    result = rewrite_notebook(text, "nb.ipynb")
    assert result.new == text and result.conversions == []


def test_check_notebook_reports_cells():
    nb = notebook(
        code(lines(IMPORTS)),
        {"cell_type": "markdown", "metadata": {}, "source": "text"},
        code(["%load_ext autoreload\n", "rows = np.apply_along_axis(np.sum, 1, np.ones((3, 3)))"]),
    )
    diagnostics = check_notebook(dump(nb), "nb.ipynb")
    assert [(d.cell, d.line, d.col, d.code) for d in diagnostics] == [(3, 2, 8, "RWC003")]
    bad = check_notebook("{", "bad.ipynb")
    assert [d.code for d in bad] == ["RWC900"]


def test_compact_json_keeps_its_layout():
    text = json.dumps(example(), ensure_ascii=False)   # one line, ", " separators
    result = rewrite_notebook(text, "nb.ipynb")
    assert result.changed and "\n" not in result.new
    assert '"source": ["def standardize_rows(x):\\n", "    mu = tf.reduce_mean(' in result.new


def test_re_dump_when_the_file_cannot_be_spliced(monkeypatch):
    import rewriter.notebooks as notebooks

    monkeypatch.setattr(notebooks, "_source_spans", lambda text: None)
    text = dump(example())
    result = rewrite_notebook(text, "nb.ipynb")
    assert result.changed and result.new.endswith("}\n")
    assert result.new.startswith('{\n "cells": [\n  {\n   "cell_type": "markdown"')   # indent=1 kept
    assert "héllo" in result.new   # ensure_ascii=False, as nbformat writes
    expected = json.loads(text)
    new = json.loads(result.new)
    for index in (0, 1):
        assert new["cells"][index] == expected["cells"][index]


# -- properties of the masking and the cell join --------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from rewriter.notebooks import _masked, _Program, _unmasked  # noqa: E402

_LINES = st.sampled_from([
    "x = 1", "%time y = 2", "!ls -la", "  %env A=1", "def f(v):", "    return v", "# %not a magic",
    "%%bash", "s = '''", "%d items", "'''", "!", "import numpy as np", "", "print(x)  # é ✓",
    "\t!echo ok", "y = [1,", "     % 3]",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=8), st.booleans())
def test_masking_round_trips(lines, final_newline):
    source = "\n".join(lines) + ("\n" if final_newline else "")
    masked = _masked(source)
    if masked is None:
        return
    assert len(masked) == len(source) and masked.count("\n") == source.count("\n")
    assert _unmasked(masked) == source
    compile(masked, "<cell>", "exec", flags=0x400)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_LINES, max_size=5), max_size=5))
def test_joining_and_splitting_cells_is_the_identity(cells):
    sources = ["\n".join(c) for c in cells]
    program = _Program(notebook(*[code(s) for s in sources]))
    assert program.split(program.text) == {i: sources[i] for i in program.cells}
    for k, index in enumerate(program.cells):
        for offset in range(sources[index].count("\n") + 1):
            assert program.locate(program.starts[k] + offset) == (index + 1, offset + 1)
