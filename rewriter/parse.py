"""Stage 1 — parse: source text to a gast tree whose nodes map back to character spans.

gast gives one AST shape across Python versions (the same tree AutoGraph and beniget use).
Positions from the parser are (line, UTF-8 byte column); `SourceMap` turns them into
character offsets so later stages can splice text without re-rendering untouched code.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import gast


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class ParseError(Exception):
    """The source is not valid Python; `line` and `col` locate the problem (1-based)."""

    def __init__(self, message: str, line: int = 0, col: int = 0):
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


@dataclass(frozen=True)
class Span:
    start: int
    end: int


class SourceMap:
    """Character offsets of nodes in one source text."""

    def __init__(self, text: str):
        self.text = text
        # Python ends lines only at \r\n, \r and \n (str.splitlines also splits at form feeds
        # and other separators, which would shift every offset after them).
        self.lines = _LINE.findall(text) or [""]
        self.line_starts = [0]
        for line in self.lines:
            self.line_starts.append(self.line_starts[-1] + len(line))

    def offset(self, lineno: int, byte_col: int) -> int:
        line = self.lines[lineno - 1] if lineno - 1 < len(self.lines) else ""
        char_col = len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))
        return self.line_starts[lineno - 1] + char_col

    def span(self, node) -> Span:
        start = self.offset(node.lineno, node.col_offset)
        end = self.offset(node.end_lineno, node.end_col_offset)
        return Span(start, end)

    def segment(self, node) -> str:
        span = self.span(node)
        return self.text[span.start:span.end]

    def indent_of_line(self, lineno: int) -> str:
        line = self.lines[lineno - 1]
        return line[: len(line) - len(line.lstrip(" \t"))]


@dataclass(frozen=True)
class ParsedModule:
    tree: gast.Module
    source: SourceMap
    filename: str


def parse(text: str, filename: str = "<string>") -> ParsedModule:
    """Parse `text`; raise ParseError with a position on invalid syntax."""
    try:
        tree = ast.parse(text, filename=filename, type_comments=False)
    except SyntaxError as exc:
        raise ParseError(exc.msg or "invalid syntax", exc.lineno or 0, exc.offset or 0) from None
    except (ValueError, RecursionError) as exc:  # null bytes, absurd nesting
        raise ParseError(str(exc)) from None
    return ParsedModule(gast.ast_to_gast(tree), SourceMap(text), filename)
