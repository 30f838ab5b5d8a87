"""What a source text looks like, for the render stage: its lines as Python numbers them,
its statements as written, the names it uses, its comments, indentation unit and quotes.

The render stage tells the user's statements from the rewrite's by their text (indentation
included), and matches the file's own style; these are the readings it needs.
"""
from __future__ import annotations

import ast
import builtins
import functools
import io
import re
import tokenize

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef)


LINE_END = re.compile(r"\r\n|\r|\n")


LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@functools.lru_cache(maxsize=8)
def text_lines(text: str) -> list:
    """The text's lines as Python numbers them (not at form feeds), split once per text
    (callers must not change the list)."""
    return LINE_END.split(text)


def statement_texts(source: str, tree) -> set:
    """The text keys of every statement of `source` (parsed as `tree`)."""
    return {text_key(source, s) for s in ast.walk(tree) if isinstance(s, ast.stmt)}


def text_key(source: str, statement) -> tuple:
    """A statement's lines as written, indentation included: a user's statement that a copy
    nests one level deeper (under a dispatch `if`) is the rewrite's to lay out."""
    lines = text_lines(source)[statement.lineno - 1:statement.end_lineno]
    return tuple(line.rstrip() for line in lines)


def if_header(lines: list, statement) -> tuple | None:
    """(first, end) line indexes of an `if`'s header, up to the line ending in its colon;
    None when its body starts on the same line."""
    if statement.body[0].lineno == statement.lineno:
        return None
    end = next((k + 1 for k in range(statement.test.end_lineno - 1, statement.body[0].lineno - 1)
                if code_part(lines[k]).endswith(":")), None)
    return None if end is None else (statement.lineno - 1, end)


def header_texts(source: str, tree) -> set:
    """The keys of every `if` header of `source` (parsed as `tree`)."""
    lines = text_lines(source)
    spans = (if_header(lines, s) for s in ast.walk(tree) if isinstance(s, ast.If))
    return {header_key(lines[first:end]) for first, end in filter(None, spans)}


def header_key(lines) -> tuple:
    return tuple(line.strip() for line in lines)


def identifiers(tree) -> set:
    """Every name a tree reads or binds, except a lambda's parameters and their uses in its
    body (local to that lambda: a new local may take their name)."""
    names = set()
    for node in ast.iter_child_nodes(tree) if not isinstance(tree, ast.Lambda) else [tree.body]:
        names |= identifiers(node)
    if isinstance(tree, ast.Lambda):
        names -= {a.arg for a in tree.args.args}
        names |= identifiers(tree.args) - {a.arg for a in tree.args.args}
    elif isinstance(tree, ast.Name):
        names.add(tree.id)
    elif isinstance(tree, ast.arg):
        names.add(tree.arg)
    elif isinstance(tree, (*SCOPES, ast.ClassDef)):
        names.add(tree.name)
    elif isinstance(tree, ast.alias):
        names.add((tree.asname or tree.name).split(".")[0])
    return names


def module_names(tree) -> set:
    """Names bound at module level, and the builtins: a new local must shadow neither."""
    names = set(dir(builtins))
    for statement in tree.body:
        if isinstance(statement, (*SCOPES, ast.ClassDef)):
            names.add(statement.name)
        else:
            names |= identifiers(statement)
    return names


def indent_of(text: str, statement) -> str:
    line = text_lines(text)[statement.lineno - 1]
    return line[: len(line) - len(line.lstrip())]


def comments(text: str, statement):
    """The comments inside a statement's lines: those on earlier lines, and the last line's."""
    lines = [line + "\n" for line in text_lines(text)[statement.lineno - 1:statement.end_lineno]]
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO("".join(lines).lstrip()).readline):
            if token.type == tokenize.COMMENT:
                found.append((token.start[0], token.string))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [], ""
    last = len(lines)
    trailing = next((c for line, c in found if line == last), "")
    return [c for line, c in found if line != last], trailing


def code_part(line: str) -> str:
    """A line without its trailing comment (a comment may be as long as its writer chose)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return line.rstrip()
    comment = next((t for t in tokens if t.type == tokenize.COMMENT), None)
    if comment is None:
        return line.rstrip()
    indent = len(line) - len(line.lstrip())
    return line[: indent + comment.start[1]].rstrip()


def indent_unit(source: str) -> str:
    """The file's indentation step: the smallest indent that a block opener adds."""
    steps = []
    previous = None
    for line in source.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = line[: len(line) - len(line.lstrip())]
        if previous is not None and previous[1].endswith(":") and len(indent) > len(previous[0]) \
                and indent.startswith(previous[0]):
            steps.append(indent[len(previous[0]):])
        previous = (indent, line.split("#", 1)[0].rstrip())
    return min(steps, key=len) if steps else "    "


def prefers_double_quotes(source: str) -> bool:
    double = single = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING:
                body = token.string.lstrip("rbuRBUfF")
                double += body.startswith('"')
                single += body.startswith("'")
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return True
    return double >= single
