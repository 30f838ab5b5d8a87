"""Layout of the statements the rewrite writes: black at the file's line length, in the file's
quote style and indentation unit, with the statement's comments kept.

black is the layout reviewers already accept; it is imported only when a statement is too long
or needs its quotes changed.
"""
from __future__ import annotations

import ast
import re

from .purity import PureOps
from .source_text import header_key, if_header, indent_of, indent_unit, prefers_double_quotes, text_lines


class Style:
    """What the file's own code looks like: line length, indentation unit, quotes."""

    def __init__(self, original: str, line_length: int, tf_alias: str, helpers=(), constants=frozenset()):
        self.line_length = line_length
        self.tf_alias = tf_alias
        self.ops = PureOps(tf_alias, helpers, constants)
        self.unit = indent_unit(original)
        self.double_quotes = prefers_double_quotes(original)

    def format(self, statement: ast.stmt, indent: str, comments: list, trailing: str) -> str:
        source = ast.unparse(statement) + (f"  {trailing}" if trailing else "")
        text = self.layout(source, indent)
        return "".join(f"{indent}{c}\n" for c in comments) + text

    def layout(self, source: str, indent: str) -> str:
        """`source` laid out by black at the room left by `indent`, in the file's indentation."""
        text = black(source, self.line_length - len(indent), self.double_quotes)
        text = _NO_BLANK_AFTER_DEF.sub(r"\1\n", text)  # a def's body starts on its next line
        if self.unit != "    ":
            text = re.sub(r"(?m)^((?:    )+)", lambda m: self.unit * (len(m.group(1)) // 4), text)
        return "".join(f"{indent}{line}\n" if line else "\n" for line in text.splitlines())


_NO_BLANK_AFTER_DEF = re.compile(r"(?m)^([ \t]*(?:async[ \t]+)?def [^\n]*:)\n\n")


def black(source: str, line_length: int, double_quotes: bool) -> str:
    """black's layout of one statement; the unformatted text when it is short enough anyway."""
    if "\n" not in source and len(source) <= line_length and (not double_quotes or "'" not in source):
        return source
    import black

    mode = black.Mode(line_length=max(line_length, 40), string_normalization=double_quotes,
                      magic_trailing_comma=False)
    return black.format_str(source, mode=mode).rstrip("\n")


def long_headers(tree, text: str, user_headers: set, style):
    """Emitted `if` / `elif` lines longer than the line length, laid out by black."""
    lines = text_lines(text)
    for statement in ast.walk(tree):
        span = if_header(lines, statement) if isinstance(statement, ast.If) else None
        if span is None:
            continue
        first, end = span
        header = lines[first:end]
        if header_key(header) in user_headers or all(len(line) <= style.line_length for line in header):
            continue
        keyword = header[0].strip().split(None, 1)[0].split("(", 1)[0]
        if keyword not in ("if", "elif") or "#" in "".join(header):
            continue
        indent = indent_of(text, statement)
        laid_out = style.layout(f"if {ast.unparse(statement.test)}:\n    pass", indent).splitlines(keepends=True)
        laid_out = laid_out[: next(k for k, line in enumerate(laid_out) if line.rstrip().endswith(":")) + 1]
        laid_out[0] = laid_out[0].replace("if", keyword, 1)
        yield first, end, "".join(laid_out)
