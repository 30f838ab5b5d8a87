"""How the code `rewriter fix` emits on the corpus reads: the render stage's figures.

For every corpus program, the rewrite with the render stage and without it (lowering's text
as it comes), side by side in one run: added lines, emitted lines over the line length,
lambdas the user did not write, expressions a block computes twice, lines off the file's
indentation unit, and the longest emitted line.

    python benchmarks/emitted_code.py [corpus folder]
"""
from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

from rewriter import pipeline
from rewriter.code_quality import measure
from rewriter.source_text import code_part

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def figures(paths, rendered: bool) -> dict:
    total = {"files changed": 0, "added lines": 0, "lines over 88": 0, "longest line": 0,
             "lambdas added": 0, "repeated expressions": 0, "misindented lines": 0}
    no_render = mock.patch.object(pipeline, "render", lambda original, new, *rest: new)
    with no_render if not rendered else mock.patch.object(pipeline, "render", pipeline.render):
        for path in paths:
            original = path.read_text()
            new = pipeline.rewrite_source(original, str(path), pipeline.RewriteOptions(line_length=88)).new
            if new == original:
                continue
            found = measure(original, new)
            total["files changed"] += 1
            total["added lines"] += found.added_lines
            total["lines over 88"] += len(found.long_lines)
            total["lambdas added"] += sum(int(text.split()[0]) for text in found.lambdas)
            total["repeated expressions"] += len(found.repeats)
            total["misindented lines"] += len(found.misindented)
            added = set(new.splitlines()) - set(original.splitlines())
            total["longest line"] = max([total["longest line"], *(len(code_part(line)) for line in added)])
    return total


def main(argv) -> int:
    folder = Path(argv[0]) if argv else CORPUS
    paths = sorted(p for p in folder.glob("*.py") if p.name != "__init__.py")
    before, after = figures(paths, rendered=False), figures(paths, rendered=True)
    print(f"{len(paths)} programs in {folder}")
    print(f"{'':24}{'lowering text':>16}{'rendered':>12}")
    for key in before:
        print(f"{key:24}{before[key]:>16}{after[key]:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
