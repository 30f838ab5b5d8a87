"""How many corpus sites convert as shipped and with their declarations taken out.

Real code rarely declares its inputs (no input_signature, no `# rewriter: args=`), so the
corpus is rewritten twice: as shipped, and with every declaration removed (the twins the dtype
sweep runs, tests/undeclared.py). Prints the converted and left counts of both, the seconds
the engine spent on each, and every program whose twin converts less than the original.

    python benchmarks/undeclared_coverage.py [corpus folder]
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from undeclared import strip_declarations  # noqa: E402

from rewriter.pipeline import rewrite_source  # noqa: E402


def main(folder: Path) -> None:
    counts = {"declared": Counter(), "undeclared": Counter()}
    seconds = Counter()
    worse = []
    for path in sorted(folder.glob("*.py")):
        text = path.read_text()
        converted = {}
        for mode, source in (("declared", text), ("undeclared", strip_declarations(text))):
            start = time.perf_counter()
            result = rewrite_source(source, str(path))
            seconds[mode] += time.perf_counter() - start
            statuses = [c.status for c in result.conversions]
            counts[mode].update(statuses)
            converted[mode] = statuses.count("converted")
        if converted["undeclared"] < converted["declared"]:
            worse.append(path.name)
    for mode, counter in counts.items():
        print(f"{mode:>10}: {counter['converted']} converted, {counter['left']} left, "
              f"{counter['error']} errors ({seconds[mode]:.1f} s)")
    print("twins converting less than the original:", ", ".join(worse) or "none")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "corpus")
