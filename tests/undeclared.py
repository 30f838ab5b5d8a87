"""Corpus programs as people usually write them: with their declarations taken out.

`input_signature=[...]` arguments and `# rewriter: args=` comments are removed, so the rewriter
must settle the input dtypes itself and the rewritten program must run for every input dtype
and rank the original accepts.
"""
from __future__ import annotations

import ast
import re

_ARGS_COMMENT = re.compile(r"[ \t]*#\s*rewriter:\s*args\s*=.*$", re.M)


def strip_declarations(text: str) -> str:
    """The source without `input_signature=` keywords and `# rewriter: args=` comments."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno, col):
        return starts[lineno - 1] + len(lines[lineno - 1].encode()[:col].decode())

    cuts = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        arguments = [*node.args, *node.keywords]
        for index, keyword in enumerate(node.keywords):
            if keyword.arg != "input_signature":
                continue
            start = offset(keyword.lineno, keyword.col_offset)
            end = offset(keyword.end_lineno, keyword.end_col_offset)
            position = arguments.index(keyword)
            if position > 0:  # take the comma before it
                previous = arguments[position - 1]
                start = offset(previous.end_lineno, previous.end_col_offset)
            elif len(arguments) > 1:  # or the comma after it
                following = arguments[1]
                end = offset(following.lineno, following.col_offset)
            cuts.append((start, end))
    for start, end in sorted(cuts, reverse=True):
        text = text[:start] + text[end:]
    return _ARGS_COMMENT.sub("", text)
