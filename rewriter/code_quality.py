"""Measures of the code a rewrite emits, against what a reviewer expects of it.

For a file before and after `rewriter fix`: emitted lines longer than the line length, lambdas
the user did not write, non-trivial expressions one emitted block computes twice, and lines
indented off the file's indentation unit. The tests hold the corpus and the before/after
examples to zero on each; `benchmarks/emitted_code.py` prints the figures.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .purity import PureOps, calls_pure_ops_only, number_constants, trivial
from .source_text import code_part, indent_unit, statement_texts, text_key

_OFF = "# rewriter: off"


@dataclass
class Findings:
    added_lines: int = 0
    long_lines: list = field(default_factory=list)
    lambdas: list = field(default_factory=list)
    repeats: list = field(default_factory=list)
    misindented: list = field(default_factory=list)

    def problems(self) -> list:
        return [*self.long_lines, *self.lambdas, *self.repeats, *self.misindented]


def measure(original: str, new: str, line_length: int = 88) -> Findings:
    """What the rewrite of `original` into `new` emitted that a reviewer would send back."""
    findings = Findings()
    if new == original:
        return findings
    original_tree = ast.parse(original)
    user = statement_texts(original, original_tree)
    user_lines = set(original.splitlines())
    user_lambdas = sum(isinstance(n, ast.Lambda) for n in ast.walk(original_tree))
    tree = ast.parse(new)
    lines = new.splitlines()
    added = [line for line in lines if line not in user_lines]
    findings.added_lines = len(added)
    for line in added:
        code = line.rstrip() if line.rstrip().endswith(_OFF) else code_part(line)
        if len(code) > line_length and not _single_literal(code):
            findings.long_lines.append(f"{len(code)} characters: {line.strip()[:60]}")
    lambdas = sum(isinstance(n, ast.Lambda) for n in ast.walk(tree))
    if lambdas > user_lambdas:
        findings.lambdas.append(f"{lambdas - user_lambdas} lambda(s) more than the user wrote")
    for block in _blocks(tree):
        emitted = [s for s in block if text_key(new, s) not in user
                   and not isinstance(s, (ast.FunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.With, ast.Try))]
        findings.repeats.extend(_repeats(block, emitted, number_constants(tree)))
    unit = indent_unit(original)
    for number, line in enumerate(lines, 1):
        indent = len(line) - len(line.lstrip())
        if line in user_lines or not line.strip() or _continuation(tree, number):
            continue
        if indent % len(unit):
            findings.misindented.append(f"line {number}: indented by {indent}, the file's unit is {len(unit)}")
    return findings


def _single_literal(code: str) -> bool:
    try:
        node = ast.parse(code.strip().rstrip(","), mode="eval").body
    except SyntaxError:
        return False
    return isinstance(node, ast.Constant)


def _repeats(block, emitted, constants) -> list:
    """Non-trivial expressions that the block's emitted statements compute more than once
    with the same values (nothing they read assigned between); parts of a bigger repeated
    expression are not counted again."""
    live: dict = {}
    repeated = []
    for statement in block:
        if not calls_pure_ops_only(statement, PureOps()):  # a call that may change values: nothing is shared across it
            repeated.extend(live.values())
            live = {}
            continue
        if statement in emitted:
            for node in ast.walk(statement):
                if isinstance(node, ast.expr) and not trivial(node, constants) and isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
                    live.setdefault(ast.dump(node), []).append(node)
        assigned = {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        for key in [k for k, nodes in live.items() if assigned & {n.id for n in ast.walk(nodes[0]) if isinstance(n, ast.Name)}]:
            repeated.append(live.pop(key))
    repeated.extend(live.values())
    found, covered = [], []
    for nodes in sorted((n for n in repeated if len(n) > 1), key=lambda n: -len(list(ast.walk(n[0])))):
        if any(nodes[0] is part for big in covered for part in ast.walk(big)):
            continue
        covered.extend(nodes)
        found.append(f"line {nodes[0].lineno}: `{ast.unparse(nodes[0])[:60]}` computed {len(nodes)} times")
    return found


def _blocks(tree):
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block


def _continuation(tree, number) -> bool:
    """Whether line `number` continues a statement begun on an earlier line (black's hanging
    indents are multiples of four anyway, but a user's own may not be)."""
    return any(isinstance(s, ast.stmt) and s.lineno < number <= s.end_lineno and not _starts_child(s, number)
               for s in ast.walk(tree))


def _starts_child(statement, number) -> bool:
    return any(isinstance(c, ast.stmt) and c is not statement and c.lineno == number for c in ast.walk(statement))
