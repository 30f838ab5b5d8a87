"""The NumPy-exact helpers of `tf_helpers.py` as text: how lowering names them, and how each
kind of output gets their definitions.

Lowering writes a helper call as `__rw_np_hanning(m)`, a spelling no user code has, so the
stage that turns lowered text into code can find every helper a text needs:

- `rewriter fix` (`render_helpers.py`) renames the call to `np_hanning` (or `np_hanning2` when the file
  already has that name) and defines the helper once per file, in one marked block after the
  imports (`file_block`). Helpers live in the file, not in a module the codemod would add to
  the repository: the rewritten file then runs on its own, as a script, in a notebook or
  copied elsewhere, with no new import to resolve.
- the pattern tests compile a function text: `with_definitions` puts the definitions before
  the function; the decorator compiles the helpers on their own (`functions`) and gives them
  to the function as closure variables.

Reading the source with `ast` keeps TensorFlow out of the CLI's process.
"""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

PREFIX = "__rw_"
MARKER = re.compile(r"\b__rw_([a-z_]+)\b")
BLOCK_START = "# -- rewriter helpers: NumPy-exact TensorFlow, used by the rewritten code below --"
BLOCK_END = "# -- end of rewriter helpers --"


def call(name: str, *arguments: str) -> str:
    """The lowered text of a call to helper `name` (`call("np_hanning", "m")`)."""
    if name not in _sources():
        raise KeyError(f"no helper named {name}")
    return f"{PREFIX}{name}({', '.join(arguments)})"


def used(text: str) -> list:
    """The helpers a lowered text calls, in order of first use, each followed by the helpers
    it calls itself (`np_argsort` sorts by `sort_key`)."""
    names: list = []
    for name in MARKER.findall(text):
        for needed in (name, *_requires(name)):
            if needed not in names:
                names.append(needed)
    return names


def source(name: str, alias: str = "tf", names: dict | None = None) -> str:
    """A helper's definition, for a file that imports TensorFlow as `alias` and names its
    helpers as `names` says (helper -> name in the file, for a clash with the file's own)."""
    text = _sources()[name]
    for helper, renamed in (names or {}).items():
        if renamed != helper:
            text = re.sub(rf"(?<![\w.]){helper}\(", f"{renamed}(", text)
    return text if alias == "tf" else re.sub(r"(?<![\w.])tf\.", f"{alias}.", text)


@functools.lru_cache(maxsize=None)
def _requires(name: str) -> tuple:
    """The other helpers a helper calls, directly or not."""
    found: list = []
    for other in _sources():
        if other != name and re.search(rf"(?<![\w.]){other}\(", _sources()[name]):
            found += [other, *_requires(other)]
    return tuple(dict.fromkeys(found))


def with_definitions(text: str, alias: str = "tf") -> str:
    """A function text with the helpers it calls defined before it, under their own names."""
    names = used(text)
    if not names:
        return text
    return "".join(source(name, alias) + "\n" for name in names) + MARKER.sub(r"\1", text)


def functions(names) -> dict:
    """The helpers themselves (name -> function), for code compiled in this process (the
    decorator): their own source, run with TensorFlow as `tf`."""
    if not names:
        return {}
    import tensorflow

    namespace: dict = {"tf": tensorflow}
    for name in names:
        exec(compile(_sources()[name], f"<rewriter helper {name}>", "exec"), namespace)  # our own source
    return {name: namespace[name] for name in names}


def rename_calls(text: str, names: dict) -> str:
    """`__rw_np_x(...)` calls renamed to the names the file's helpers have (`names`)."""
    return MARKER.sub(lambda m: names[m.group(1)], text)


def file_block(definitions: list) -> str:
    """The marked block holding a file's helper definitions."""
    return f"{BLOCK_START}\n\n\n" + "\n\n".join(definitions) + f"\n\n{BLOCK_END}\n"


@functools.lru_cache(maxsize=1)
def _sources() -> dict:
    path = Path(__file__).with_name("tf_helpers.py")
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    return {node.name: "".join(lines[node.lineno - 1:node.end_lineno])
            for node in tree.body if isinstance(node, ast.FunctionDef)}
