"""Codemod throughput: `rewriter fix` against TensorFlow's own `tf_upgrade_v2`, on one tree.

    python benchmarks/codemod_speed.py [--copies 10] [--runs 3] [--json FILE] [--keep]

The tree, built in a temporary folder:

* `ops/`: every `*.py` file of the installed TensorFlow's `tensorflow/python/ops` folder
  (library code: large files, few or no numpy_function sites);
* `user/copyN/`: N copies of this repository's `corpus/` folder (user code: small files, a
  site or more in most of them).

Timed side by side, each command as a subprocess, median of `--runs` runs (runs are
interleaved, so a change in the machine's load hits every command alike):

* `tf_upgrade_v2 --intree TREE --outtree OUT --reportfile R` (a fresh OUT every run);
* `rewriter fix --diff --jobs 2 TREE > /dev/null`, the same with `--jobs 1`, and
  `rewriter fix --check --jobs 2 TREE` (neither writes to the tree);
* both commands on an empty tree: their fixed start-up cost (tf_upgrade_v2 imports TensorFlow;
  rewriter fix without --verify does not).

`tf_upgrade_v2` gives up on the whole tree (a traceback, no output tree completed, no report)
at the first file its parser, pasta, fails on with anything but a SyntaxError. On TF 2.21 two
files of `tensorflow/python/ops` that Python 3.11 parses do that (f-strings pasta's annotator
does not follow). So every file is first given to `pasta.parse` (untimed, in a process pool);
the files it crashes on are left out of the timed tree, for every command alike, so that all
rows cover the same files and lines, and the output names them.

Wall seconds depend on the machine's load (the load average is printed); CPU seconds (user +
system of the command and all its worker processes) are steadier on a shared machine. The
ratio column is rewriter / tf_upgrade_v2: below 1, rewriter is faster.
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def tf_ops_folder() -> Path:
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or spec.origin is None:
        sys.exit("TensorFlow is not installed: the tree and tf_upgrade_v2 both come from it")
    return Path(spec.origin).parent / "python" / "ops"


def build_tree(root: Path, copies: int) -> Path:
    tree = root / "tree"
    ops = tf_ops_folder()
    for source in sorted(ops.rglob("*.py")):
        target = tree / "ops" / source.relative_to(ops)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    corpus = sorted((REPO / "corpus").glob("*.py"))
    for n in range(copies):
        folder = tree / "user" / f"copy{n}"
        folder.mkdir(parents=True)
        for source in corpus:
            shutil.copyfile(source, folder / source.name)
    return tree


def census(tree: Path) -> dict:
    files = sorted(tree.rglob("*.py"))
    lines, unparseable = 0, []
    for path in files:
        data = path.read_bytes()
        lines += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        try:
            ast.parse(data, filename=str(path))
        except (SyntaxError, ValueError):
            unparseable.append(path)
    return {"files": len(files), "lines": lines, "unparseable": unparseable}


def _pasta_crash(path: str) -> str:
    """What makes tf_upgrade_v2 abort its tree on this file ("" when nothing does): pasta
    raising anything but the SyntaxError/ValueError/TypeError that tf_upgrade_v2 catches."""
    import pasta  # ships with TensorFlow, as tf_upgrade_v2's parser

    try:
        pasta.parse(Path(path).read_text(encoding="utf-8"))
    except (SyntaxError, ValueError, TypeError):
        return ""
    except Exception as exc:  # noqa: BLE001 - exactly what escapes tf_upgrade_v2's handler
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return ""


def pasta_crashes(tree: Path) -> dict:
    from concurrent.futures import ProcessPoolExecutor

    files = sorted(str(p) for p in tree.rglob("*.py"))
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        reasons = list(pool.map(_pasta_crash, files, chunksize=4))
    return {Path(f): r for f, r in zip(files, reasons) if r}


def drop(tree: Path, paths) -> None:
    for path in paths:
        Path(path).unlink()


def timed(command: list, stderr_path: Path, before=None) -> dict:
    """Run `command`; wall seconds and CPU seconds of it and every process it waited for."""
    if before is not None:
        before()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(stderr_path, "wb") as err:
        proc = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return {"wall": wall, "cpu": cpu, "rc": proc.returncode}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=10, help="copies of corpus/ under user/ (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each command; the median is shown (default 3)")
    parser.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    args = parser.parse_args(argv)

    tf_upgrade = shutil.which("tf_upgrade_v2")
    if tf_upgrade is None:
        sys.exit("tf_upgrade_v2 is not on PATH (it ships with the tensorflow package)")
    rewriter = [sys.executable, "-m", "rewriter"]
    root = Path(tempfile.mkdtemp(prefix="codemod_speed_"))
    try:
        tree = build_tree(root, args.copies)
        facts = census(tree)
        logs = root / "logs"
        logs.mkdir()
        empty = root / "empty"
        empty.mkdir()

        notes = []
        print("checking which files tf_upgrade_v2's parser (pasta) aborts on ...", file=sys.stderr)
        crashes = pasta_crashes(tree)
        if crashes:
            drop(tree, crashes)
            before = facts
            facts = census(tree)
            notes.append(f"tf_upgrade_v2 aborts the whole tree (traceback, no report) on {len(crashes)} of "
                         f"{before['files']} files ({before['lines'] - facts['lines']} lines), which "
                         "Python parses: left out of the timed tree for every command:")
            notes.extend(f"  {p.relative_to(tree)}: {r}" for p, r in crashes.items())
        if facts["unparseable"]:
            notes.append(f"{len(facts['unparseable'])} files do not parse (each is an error line for both tools)")

        out = root / "out"

        def fresh_out():
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(root / "empty_out", ignore_errors=True)

        commands = {
            "tf_upgrade_v2": ([tf_upgrade, "--intree", str(tree), "--outtree", str(out),
                               "--reportfile", str(root / "report.txt")], facts),
            "rewriter fix --diff --jobs 2": ([*rewriter, "fix", "--diff", "--jobs", "2", str(tree)], facts),
            "rewriter fix --diff --jobs 1": ([*rewriter, "fix", "--diff", "--jobs", "1", str(tree)], facts),
            "rewriter fix --check --jobs 2": ([*rewriter, "fix", "--check", "--jobs", "2", str(tree)], facts),
        }
        startup = {
            "tf_upgrade_v2 (empty tree)": [tf_upgrade, "--intree", str(empty), "--outtree",
                                           str(root / "empty_out"), "--reportfile", str(root / "report0.txt")],
            "rewriter fix (empty tree)": [*rewriter, "fix", "--diff", "--jobs", "1", str(empty)],
        }

        load = os.getloadavg()
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; Python {platform.python_version()}",
              file=sys.stderr)
        print(f"tree: {root} ({facts['files']} files, {facts['lines']} lines)", file=sys.stderr)

        samples = {name: [] for name in [*commands, *startup]}
        for run in range(args.runs):
            for name, (command, _) in commands.items():
                result = timed(command, logs / f"{len(samples[name])}_{name.replace(' ', '_')}.txt",
                               before=fresh_out if name == "tf_upgrade_v2" else None)
                samples[name].append(result)
                print(f"run {run + 1}/{args.runs} {name}: {result['wall']:.2f} s wall, "
                      f"{result['cpu']:.2f} s CPU, exit {result['rc']}", file=sys.stderr)
            for name, command in startup.items():
                samples[name].append(timed(command, logs / f"startup_{name[:8]}.txt", before=fresh_out))

        upgrade_log = (logs / "0_tf_upgrade_v2.txt").read_text(errors="replace")
        if samples["tf_upgrade_v2"][0]["rc"] != 0 or "Traceback" in upgrade_log:
            notes.append("tf_upgrade_v2 failed: " + upgrade_log.strip().splitlines()[-1][:200])
        for name in commands:
            codes = {r["rc"] for r in samples[name]}
            if name.startswith("rewriter") and codes - {0, 1}:
                notes.append(f"{name} exited {sorted(codes)}")

        rows = []
        base = {k: statistics.median(r[k] for r in samples["tf_upgrade_v2"]) for k in ("wall", "cpu")}
        for name, (_, f) in commands.items():
            wall = statistics.median(r["wall"] for r in samples[name])
            cpu = statistics.median(r["cpu"] for r in samples[name])
            rows.append({"command": name, "files": f["files"], "lines": f["lines"], "wall_s": wall, "cpu_s": cpu,
                         "lines_per_s": f["lines"] / wall, "ratio_wall": wall / base["wall"],
                         "ratio_cpu": cpu / base["cpu"], "runs": [r["wall"] for r in samples[name]]})
        for name in startup:
            wall = statistics.median(r["wall"] for r in samples[name])
            cpu = statistics.median(r["cpu"] for r in samples[name])
            rows.append({"command": name, "files": 0, "lines": 0, "wall_s": wall, "cpu_s": cpu,
                         "lines_per_s": None, "ratio_wall": None, "ratio_cpu": None,
                         "runs": [r["wall"] for r in samples[name]]})

        print(f"\n{facts['files']} files ({facts['files'] - args.copies * len(list((REPO / 'corpus').glob('*.py')))} "
              f"from tensorflow/python/ops, the rest {args.copies} copies of corpus/), {facts['lines']} lines; "
              f"median of {args.runs} runs; load average {load[0]:.2f} at the start\n")
        print("| command | files | lines | wall s | CPU s | lines/s (wall) | rewriter/tf_upgrade_v2 (wall) | (CPU) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for row in rows:
            ratio = "" if row["ratio_wall"] is None or row["command"] == "tf_upgrade_v2" else f"{row['ratio_wall']:.2f}"
            ratio_cpu = "" if row["ratio_cpu"] is None or row["command"] == "tf_upgrade_v2" else f"{row['ratio_cpu']:.2f}"
            lps = "" if row["lines_per_s"] is None else f"{row['lines_per_s']:,.0f}"
            print(f"| `{row['command']}` | {row['files'] or ''} | {row['lines'] or ''} | {row['wall_s']:.2f} | "
                  f"{row['cpu_s']:.2f} | {lps} | {ratio} | {ratio_cpu} |")
        if notes:
            print()
        for note in notes:
            print(note if note.startswith("  ") else f"note: {note}")
        if args.json:
            Path(args.json).write_text(json.dumps({"machine": {"cores": os.cpu_count(), "load": load},
                                                   "files": facts["files"], "lines": facts["lines"],
                                                   "rows": rows, "notes": notes}, indent=2))
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
