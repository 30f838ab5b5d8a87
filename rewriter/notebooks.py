"""Jupyter notebooks (`.ipynb`): rewrite and check the Python in code cells, keep the rest.

A notebook is one program split into cells: `import numpy as np` in cell 1 is what `np` means
in cell 3. So the code cells are joined into one source, one separator comment line between
cells, rewritten (or checked) once, and the result is split back at the separators. Every
edit the engine makes lies inside a cell or at a cell's end (a `<name>_tf` copy after a
function, `import tensorflow as tf` after the leading imports), never across a separator, and
the split verifies that every separator came back once and in order.

IPython syntax is kept out of the engine's way:

* cells whose first line is a cell magic (`%%time`, `%%bash`) are skipped;
* a cell that isn't valid Python as it stands has its line magics and shell escapes (lines
  starting with `%` or `!`) masked to comments of the same length in characters, so that lines
  and offsets stay where they were; each mask encodes the line's first two characters in one
  private-use character, so restoring it needs no bookkeeping and survives the engine copying a
  function;
* a cell that still doesn't parse (`x = !ls`, `obj?`, top-level `await`) is left as it is.

Only the `source` of changed cells is replaced, in place in the original JSON text, in the
layout the file already uses: outputs, execution counts, metadata, key order, number
formatting and indentation stay byte-identical, and a notebook with nothing to change is
returned exactly as read.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from .check import Diagnostic, check_source
from .pipeline import FileResult, RewriteOptions, rewrite_source

_PLANE_15, _PLANE_16 = 0xF0000, 0x100000          # private-use planes: % and ! masks
_MASK = re.compile(r"^([ \t]*)#([\U000F0000-\U0010FFFF])", re.MULTILINE)
_RESERVED = re.compile(r"[\U000F0000-\U0010FFFF]")


@dataclass
class NotebookResult(FileResult):
    """The outcome for one notebook: a FileResult, so reports read it alike.
    Each conversion's `line` is its line within its cell and `conversion.cell` the cell's
    1-based index among all the notebook's cells."""

    error_cell: int | None = None


class _SplitError(Exception):
    pass


# -- entry points --------------------------------------------------------------------------------

def rewrite_notebook(text: str, filename: str = "<notebook>", options: RewriteOptions | None = None) -> NotebookResult:
    """Rewrite the code cells of a notebook's JSON text. Never raises for a problem with the
    notebook: invalid JSON or a non-notebook becomes `error` (and `new` is `text`)."""
    nb, problem = _load(text)
    if problem:
        message, line, col = problem
        return NotebookResult(filename, text, text, error=message, error_line=line, error_col=col)
    program = _Program(nb)
    if not program.cells:
        return NotebookResult(filename, text, text)
    result = rewrite_source(program.text, filename, options)
    for conversion in result.conversions:
        cell, line = program.locate(conversion.line or conversion.site.line)
        conversion.cell, conversion.line = cell, line
    if result.error:
        cell, line = program.locate(result.error_line) if result.error_line else (None, 0)
        return NotebookResult(filename, text, text, result.conversions, result.error, line, result.error_col, cell)
    if not result.changed:
        return NotebookResult(filename, text, text, result.conversions)
    try:
        sources = program.split(result.new)
    except _SplitError as exc:
        for conversion in result.conversions:
            if conversion.status == "converted":
                conversion.status, conversion.code = "error", "RW900"
                conversion.reason = f"internal error: {exc}; notebook left as is"
        return NotebookResult(filename, text, text, result.conversions)
    changed = {index: source for index, source in sources.items() if source != program.original[index]}
    if not changed:
        return NotebookResult(filename, text, text, result.conversions)
    return NotebookResult(filename, text, _write(text, nb, changed), result.conversions)


def check_notebook(text: str, filename: str = "<notebook>", options=None, select=(), ignore=()) -> list:
    """check.check_source over a notebook's code cells (joined, as for rewriting): each
    Diagnostic's `line` is within its cell and `cell` is the cell's 1-based index. Invalid JSON
    gives one RWC900 diagnostic at the JSON error (cell None)."""
    nb, problem = _load(text)
    if problem:
        message, line, col = problem
        return [Diagnostic(filename, max(line, 1), max(col, 1), "RWC900", message)]
    program = _Program(nb)
    if not program.cells:
        return []
    out = []
    for d in check_source(program.text, filename, options, select, ignore):
        cell, line = program.locate(d.line)
        out.append(Diagnostic(d.path, line, d.col, d.code, d.message, d.fixable, cell))
    return sorted(out, key=Diagnostic.sort_key)


# -- reading -------------------------------------------------------------------------------------

def _load(text: str):
    """(notebook dict, None) or (None, (message, line, col))."""
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, (f"invalid notebook JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                      exc.lineno, exc.colno)
    except RecursionError:
        return None, ("invalid notebook JSON: too deeply nested", 0, 0)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None, ("not a Jupyter notebook (nbformat 4): no `cells` list at the top level", 1, 1)
    return nb, None


def _is_python(nb: dict) -> bool:
    metadata = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    for key, name_key in (("language_info", "name"), ("kernelspec", "language")):
        info = metadata.get(key)
        if isinstance(info, dict) and isinstance(info.get(name_key), str):
            return info[name_key].lower() == "python"
    return True


def _cell_text(cell) -> str | None:
    source = cell.get("source")
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    return None


class _Program:
    """The notebook's rewritable code cells joined into one Python source."""

    def __init__(self, nb: dict):
        self.cells: list = []        # indexes (into nb["cells"]) of the cells joined, in order
        self.original: dict = {}     # index -> the cell's source text
        self.added_newline: dict = {}
        self.starts: list = []       # 1-based first line of each joined cell in `text`
        if not _is_python(nb):
            self.text = ""
            return
        texts = {}
        for index, cell in enumerate(nb["cells"]):
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            source = _cell_text(cell)
            if source is None:
                continue
            masked = _masked(source)
            if masked is not None:
                texts[index] = masked
                self.original[index] = source
        self.token = _separator_token("".join(texts.values()))
        parts, line = [], 1
        for index, masked in texts.items():
            self.cells.append(index)
            self.starts.append(line)
            self.added_newline[index] = not masked.endswith("\n")
            body = masked + ("\n" if self.added_newline[index] else "")
            parts.append(body)
            parts.append(f"# {self.token} {len(self.cells) - 1}\n")
            line += body.count("\n") + 1
        self.text = "".join(parts)

    def locate(self, line: int):
        """(1-based cell index in the notebook, line within the cell) of a line of `text`."""
        position = 0
        for k, start in enumerate(self.starts):
            if start <= line:
                position = k
        return self.cells[position] + 1, line - self.starts[position] + 1

    def split(self, new_text: str) -> dict:
        """The new source of each joined cell (index -> text) from the rewritten program."""
        separator = re.compile(rf"^# {re.escape(self.token)} (\d+)\n", re.MULTILINE)
        chunks, last, expected = {}, 0, 0
        for match in separator.finditer(new_text):
            if int(match.group(1)) != expected:
                raise _SplitError("the rewrite moved code across notebook cells")
            index = self.cells[expected]
            chunk = new_text[last:match.start()]
            if self.added_newline[index]:
                if not chunk.endswith("\n"):
                    raise _SplitError("the rewrite changed the end of a notebook cell")
                chunk = chunk[:-1]
            chunks[index] = _unmasked(chunk)
            last, expected = match.end(), expected + 1
        if expected != len(self.cells) or new_text[last:]:
            raise _SplitError("the rewrite moved code across notebook cells")
        return chunks


def _separator_token(text: str) -> str:
    token = "rewriter-cell-" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    while token in text:
        token += "x"
    return token


def _masked(source: str) -> str | None:
    """The cell as Python the engine can read, or None when it must be left alone."""
    first = next((line for line in source.split("\n") if line.strip()), "")
    if first.lstrip().startswith("%%") or not first:
        return None   # a cell magic, or an empty cell
    if _RESERVED.search(source):
        return None   # the cell already holds mask characters
    if _parses(source):
        return source
    lines = source.split("\n")
    for i, line in enumerate(lines):
        body = line.lstrip(" \t")
        if body[:1] in ("%", "!"):
            if len(body.rstrip("\r")) < 2 or body.rstrip("\r").endswith("\\") or ord(body[1]) > 0xFFFF:
                return None   # nothing to encode (or too much), or continued on the next line
            plane = _PLANE_15 if body[0] == "%" else _PLANE_16
            lines[i] = line[:len(line) - len(body)] + "#" + chr(plane + ord(body[1])) + body[2:]
    masked = "\n".join(lines)
    return masked if _parses(masked) else None


def _unmasked(text: str) -> str:
    def restore(match):
        code = ord(match.group(2))
        first = "%" if code < _PLANE_16 else "!"
        return match.group(1) + first + chr(code - (_PLANE_15 if first == "%" else _PLANE_16))

    text = _MASK.sub(restore, text)
    if _RESERVED.search(text):
        raise _SplitError("a masked IPython line was changed by the rewrite")
    return text


def _parses(source: str) -> bool:
    try:
        compile(source, "<cell>", "exec", flags=0x400, dont_inherit=True)   # ast.PyCF_ONLY_AST
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


# -- writing -------------------------------------------------------------------------------------

def _write(text: str, nb: dict, changed: dict) -> str:
    """`text` with the `source` of the changed cells replaced in the file's own layout; the
    whole notebook re-dumped (same indentation, trailing newline) if the file can't be
    spliced."""
    ensure_ascii = text.isascii()
    expected = json.loads(text)
    for index, source in changed.items():
        cell = expected["cells"][index]
        cell["source"] = _same_form(cell["source"], source)
    spans = _source_spans(text)
    if spans is not None and all(index in spans for index in changed):
        out, last = [], 0
        for index in sorted(changed, key=lambda i: spans[i][0]):
            start, end = spans[index]
            out.append(text[last:start])
            out.append(_dump_like(text[start:end], expected["cells"][index]["source"], text, ensure_ascii))
            last = end
        out.append(text[last:])
        spliced = "".join(out)
        try:
            if json.loads(spliced) == expected:
                return spliced
        except json.JSONDecodeError:
            pass
    indent = _indent_of(text)
    dumped = json.dumps(expected, indent=indent, ensure_ascii=ensure_ascii,
                        separators=(",", ": ") if indent is not None else (", ", ": "))
    return dumped + ("\n" if text.endswith("\n") else "")


def _same_form(old, text: str):
    """A cell source in the form it had: a string, or a list of lines (each with its "\\n")."""
    if isinstance(old, str):
        return text
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _dump_like(old_value: str, new, text: str, ensure_ascii: bool) -> str:
    """JSON for a new `source` value laid out like the old value's text."""
    if isinstance(new, str) or not new:
        return json.dumps(new, ensure_ascii=ensure_ascii)
    items = [json.dumps(line, ensure_ascii=ensure_ascii) for line in new]
    layout = re.fullmatch(r"\[(\r?\n)([ \t]*)\S.*?(\r?\n)([ \t]*)\]", old_value, re.DOTALL)
    if layout:
        newline, item_indent, _, closing = layout.groups()
        return "[" + newline + item_indent + ("," + newline + item_indent).join(items) + newline + closing + "]"
    separator = ", " if (", " in old_value or ('", "' in text and '","' not in text)) else ","
    return "[" + separator.join(items) + "]"


def _indent_of(text: str):
    match = re.match(r"\s*\{\r?\n([ \t]*)\S", text)
    if match is None:
        return None
    indent = match.group(1)
    return len(indent) if indent and set(indent) == {" "} else (indent or None)


_WS = re.compile(r"[ \t\n\r]*")


def _source_spans(text: str):
    """{cell index: (start, end)} of each cell's `source` value in the JSON text, or None when
    the text isn't laid out as expected."""
    decoder = json.JSONDecoder()
    scan = json.decoder.scanstring
    try:
        i = _WS.match(text, 0).end()
        if text[i] != "{":
            return None
        spans = {}
        i += 1
        while True:
            i = _WS.match(text, i).end()
            if text[i] == "}":
                return spans
            if text[i] != '"':
                return None
            key, i = scan(text, i + 1)
            i = _WS.match(text, i).end()
            if text[i] != ":":
                return None
            i = _WS.match(text, i + 1).end()
            if key == "cells" and text[i] == "[":
                spans, i = _cell_spans(text, i, decoder, scan)
            else:
                _, i = decoder.raw_decode(text, i)
            i = _WS.match(text, i).end()
            if text[i] == ",":
                i += 1
            elif text[i] != "}":
                return None
    except (ValueError, IndexError):
        return None


def _cell_spans(text, i, decoder, scan):
    spans, index = {}, 0
    i = _WS.match(text, i + 1).end()
    if text[i] == "]":
        return spans, i + 1
    while True:
        i = _WS.match(text, i).end()
        if text[i] == "{":
            i = _WS.match(text, i + 1).end()
            while text[i] != "}":
                key, i = scan(text, i + 1)
                i = _WS.match(text, i).end() + 1   # past ":"
                i = _WS.match(text, i).end()
                _, end = decoder.raw_decode(text, i)
                if key == "source":
                    spans[index] = (i, end)
                i = _WS.match(text, end).end()
                if text[i] == ",":
                    i = _WS.match(text, i + 1).end()
            i += 1
        else:
            _, i = decoder.raw_decode(text, i)
        index += 1
        i = _WS.match(text, i).end()
        if text[i] == "]":
            return spans, i + 1
        if text[i] != ",":
            raise ValueError("malformed cells list")
        i += 1


__all__ = ["NotebookResult", "check_notebook", "rewrite_notebook"]
