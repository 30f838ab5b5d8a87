"""Wall time of one small file through `rewriter fix --diff`, as a pre-commit hook or an editor
runs it: a fresh process each time, so start-up (imports, the pattern library) counts. Python
writes its bytecode caches as an installed package would have them (an untimed first run
writes them, even where PYTHONDONTWRITEBYTECODE is set for this shell).

    python benchmarks/startup.py [--runs N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMALL = '''import numpy as np
import tensorflow as tf


def scale(img):
    x = img / 255.0
    return x.astype(np.float32)


def pipeline(image):
    return tf.numpy_function(scale, [image], tf.float32)
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "small.py"
        path.write_text(SMALL)
        for label, command in (("python -c pass", [sys.executable, "-c", "pass"]),
                               ("rewriter fix --diff (one undeclared site)",
                                [sys.executable, "-m", "rewriter", "fix", "--diff", str(path)])):
            environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            subprocess.run(command, capture_output=True, check=False, env=environment)  # writes .pyc
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                subprocess.run(command, capture_output=True, check=False, env=environment)
                times.append(time.perf_counter() - start)
            print(f"{label}: median {statistics.median(times):.3f} s over {args.runs} runs "
                  f"(min {min(times):.3f}, max {max(times):.3f})")


if __name__ == "__main__":
    main()
