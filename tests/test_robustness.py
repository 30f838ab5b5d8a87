"""`rewriter fix` on hostile trees, through the real command line: broken and odd files cost one
error line each and the run goes on; untouched files stay byte-identical; a run killed with
SIGKILL leaves every file either as it was or fully rewritten."""
import ast
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rewriter.cli import main
from rewriter.pipeline import rewrite_source

SITE = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def scale(x):
        return np.sqrt(x) * 2.0


    def pipeline(x):
        return tf.numpy_function(scale, [x], tf.float32)  # rewriter: args=float32[None]
    """)

# the wrapped function has another user: the rewrite inserts a `scale_tf` copy (new lines)
SITE_WITH_COPY = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def scale(x):
        y = np.sqrt(x)
        return y * 2.0


    def pipeline(x):
        return tf.numpy_function(scale, [x], tf.float32)  # rewriter: args=float32[None]


    def other(x):
        return scale(x)
    """)

MAIN_GUARD = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def scale(x):
        return np.exp(x) - 1.0


    if __name__ == "__main__":
        x = tf.constant([1.0, 2.0])
        print(tf.numpy_function(scale, [x], tf.float32))  # rewriter: args=float32[None]
    """)

NONLOCAL = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def outer(x):
        calls = 0

        def bump():
            nonlocal calls
            calls += 1
            return calls

        def scale(v):
            return np.exp(v) + 1.0

        bump()
        return tf.numpy_function(scale, [x], tf.float64)  # rewriter: args=float64[None]
    """)

PLAIN = "import numpy as np\n\nTABLE = np.arange(10)  # static data stays NumPy\n"


def big_source(lines: int = 20_000) -> str:
    """About `lines` lines of ordinary code, with one site at the very end."""
    out = ["import numpy as np", "import tensorflow as tf", ""]
    i = 0
    while len(out) < lines - 8:
        out += [f"def helper_{i}(x, y=1):", f"    z = x * {i} + y", "    if z > 3:", "        z -= 1",
                f"    return [z, {i}]", "", ""]
        i += 1
    out += SITE.splitlines()[3:]
    return "\n".join(out) + "\n"


def cli(*args, timeout=120):
    """`python -m rewriter ...` in a subprocess: (exit code, stdout, stderr)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-m", "rewriter", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env)
    return done.returncode, done.stdout, done.stderr


def snapshot(root: Path) -> dict:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


def error_lines(stderr: str) -> list:
    return [line for line in stderr.splitlines() if ": error: " in line]


def parses(data: bytes) -> bool:
    try:
        ast.parse(data)
    except SyntaxError:
        return False
    return True


@pytest.fixture
def messy(tmp_path):
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    tree.mkdir()
    outside.mkdir()
    (tree / "syntax_error.py").write_text("def broken(:\n    return 1\n")
    (tree / "undecodable.py").write_bytes(b"x = '\xff\xfe caf\xe9'\n")          # not UTF-8, no cookie
    (tree / "empty.py").write_bytes(b"")
    (tree / "comments.py").write_text("# only a comment\n# and another one\n")
    (tree / "plain.py").write_text(PLAIN)
    (tree / "bom.py").write_bytes(b"\xef\xbb\xbf" + SITE.encode())
    (tree / "old_mac.py").write_bytes(SITE.replace("\n", "\r").encode())   # \r line endings
    (tree / "tabs.py").write_text(SITE.replace("    ", "\t"))
    (tree / "main_guard.py").write_text(MAIN_GUARD)
    (tree / "nested_nonlocal.py").write_text(NONLOCAL)
    (tree / "big.py").write_text(big_source())
    (tree / "pkg").mkdir()
    (tree / "pkg" / "site.py").write_text(SITE)
    (tree / "pkg" / "up").symlink_to("..")                          # a folder loop
    (tree / "x.py").mkdir()                                         # a folder that looks like a file
    (tree / "x.py" / "inner.py").write_text(PLAIN)
    (outside / "victim.py").write_text(SITE)                        # must never be touched
    (tree / "link_out.py").symlink_to(outside / "victim.py")
    (tree / "link_dir_out").symlink_to(outside, target_is_directory=True)
    return tree, outside


def test_messy_tree_through_the_cli(messy):
    tree, outside = messy
    before, outside_before = snapshot(tree), snapshot(outside)
    start = time.monotonic()
    code, _, stderr = cli("fix", "--jobs", "2", tree)
    elapsed = time.monotonic() - start

    assert code == 2, stderr                      # some files erred, the run went on
    assert "Traceback" not in stderr, stderr
    errors = error_lines(stderr)
    assert sorted(Path(line.split(": error: ")[0]).name for line in errors) == ["syntax_error.py", "undecodable.py"]
    assert any("syntax error" in line and "(line 1)" in line for line in errors)
    assert any("cannot decode" in line for line in errors)
    assert elapsed < 90, f"{elapsed:.1f} s"

    after = snapshot(tree)
    assert set(after) == set(before), "files appeared or vanished"
    changed = {p.relative_to(tree).as_posix() for p in before if after[p] != before[p]}
    assert changed == {"bom.py", "old_mac.py", "tabs.py", "main_guard.py", "nested_nonlocal.py", "big.py",
                       "pkg/site.py"}
    for path in before:
        if path.relative_to(tree).as_posix() in changed:
            assert parses(after[path]), path
            assert b"tf.numpy_function" not in after[path], path
    # what each odd file keeps
    assert after[tree / "bom.py"].startswith(b"\xef\xbb\xbf") and b"tf.sqrt(x)" in after[tree / "bom.py"]
    assert b"\n" not in after[tree / "old_mac.py"] and b"tf.sqrt(x)" in after[tree / "old_mac.py"]
    tabs = after[tree / "tabs.py"].decode()
    assert "\treturn tf.sqrt(x) * 2.0" in tabs and not re.search(r"^ +\S", tabs, re.M)
    assert 'if __name__ == "__main__":' in after[tree / "main_guard.py"].decode()
    nested = after[tree / "nested_nonlocal.py"].decode()
    assert "nonlocal calls" in nested and "tf.exp(v) + 1.0" in nested
    big = after[tree / "big.py"].decode()
    assert big.count("\n") == before[tree / "big.py"].decode().count("\n") and "tf.sqrt(x)" in big
    # links out of the tree are not followed: the target is untouched and never named
    assert snapshot(outside) == outside_before
    assert (tree / "link_out.py").is_symlink()
    assert "link_out" not in stderr and "link_dir_out" not in stderr and "victim" not in stderr


def test_check_and_diff_write_nothing(messy):
    tree, outside = messy
    before = snapshot(tree)
    code, _, stderr = cli("fix", "--check", "--jobs", "1", tree)
    assert code == 2 and "Traceback" not in stderr       # errors outrank "changes needed"
    code, out, stderr = cli("fix", "--diff", "--jobs", "1", tree)
    assert code == 2 and "Traceback" not in stderr
    assert "+    return tf.sqrt(x) * 2.0" in out and "victim" not in out
    assert snapshot(tree) == before


def test_unreadable_file_is_one_error_line(tmp_path, monkeypatch, capsys):
    """Root reads any file, so a read that fails is simulated (in-process, one job)."""
    (tmp_path / "secret.py").write_text(SITE)
    (tmp_path / "site.py").write_text(SITE)
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "secret.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert main(["fix", "--jobs", "1", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'secret.py'}: error: permission denied" in err
    assert "Traceback" not in err
    assert (tmp_path / "secret.py").read_text() == SITE
    assert "tf.sqrt" in (tmp_path / "site.py").read_text()


def test_a_folder_named_like_a_file_given_as_path(tmp_path):
    (tmp_path / "x.py").mkdir()
    (tmp_path / "x.py" / "inner.py").write_text(SITE)
    code, _, stderr = cli("fix", "--jobs", "1", tmp_path / "x.py")
    assert code == 0, stderr
    assert "tf.sqrt" in (tmp_path / "x.py" / "inner.py").read_text()


def test_symlink_loop_does_not_hang_or_crash(tmp_path):
    (tmp_path / "site.py").write_text(SITE)
    (tmp_path / "loop_a.py").symlink_to("loop_b.py")
    (tmp_path / "loop_b.py").symlink_to("loop_a.py")
    code, _, stderr = cli("fix", "--jobs", "1", tmp_path, timeout=60)
    assert "Traceback" not in stderr, stderr
    assert code in (0, 2)   # skipped, or one error line per link
    assert all("loop_" in line for line in error_lines(stderr))
    assert "tf.sqrt" in (tmp_path / "site.py").read_text()


@pytest.mark.xfail(strict=True, reason="a `_tf` copy inserted into a file with \\r (old Mac) line endings "
                                       "is written with \\n: the file ends up with mixed line endings")
def test_old_mac_line_endings_survive_an_inserted_copy(tmp_path):
    path = tmp_path / "old_mac_copy.py"
    path.write_bytes(SITE_WITH_COPY.replace("\n", "\r").encode())
    code, _, stderr = cli("fix", "--jobs", "1", path)
    assert code == 0, stderr
    data = path.read_bytes()
    assert b"def scale_tf(x):" in data and parses(data)
    assert b"\n" not in data, data


# -- killed mid-run ---------------------------------------------------------------------------

TEMPLATES = (SITE, SITE_WITH_COPY, NONLOCAL)
TEMP_FILE = re.compile(r"^\..+\.py\..+\.rewriter$")  # files.write_atomic's temporary files


def test_sigkill_mid_run_leaves_every_file_old_or_new(tmp_path):
    tree = tmp_path / "tree"
    expected = {}
    for i in range(300):
        template = TEMPLATES[i % len(TEMPLATES)]
        path = tree / f"part{i // 100}" / f"m{i:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template)
        expected[path] = template.encode()
    rewritten = {t: rewrite_source(t, "m.py").new.encode() for t in TEMPLATES}
    assert all(rewritten[t] != t.encode() for t in TEMPLATES)

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen([sys.executable, "-m", "rewriter", "fix", "--jobs", "1", "-q", str(tree)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    first = min(expected)
    try:
        deadline = time.monotonic() + 60
        while first.read_bytes() == expected[first] and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        time.sleep(0.3)  # a few more files, and likely inside a write
        running = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert running, "the run finished before it could be killed: make the tree bigger"

    old = new = 0
    for path, original in expected.items():
        data = path.read_bytes()
        if data == original:
            old += 1
        else:
            assert data == rewritten[original.decode()], f"{path} is neither old nor new"
            new += 1
    assert new > 0 and old > 0, (old, new)

    leftovers = [p for p in tree.rglob("*") if p.is_file() and p not in expected]
    # A SIGKILL between write_atomic's mkstemp and its os.replace leaves that temporary file (one
    # at most with --jobs 1): it is the only kind of leftover allowed, and no .py file is harmed.
    assert all(TEMP_FILE.match(p.name) for p in leftovers), leftovers
    assert len(leftovers) <= 1, leftovers


def _children(pid: int) -> list:
    """PIDs whose parent is `pid` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.xfail(strict=True, reason="with --jobs > 1, worker processes outlive a SIGKILLed parent: they go on "
                                       "rewriting the files of chunks already queued, then hang (futex wait) "
                                       "instead of exiting")
def test_sigkill_with_workers_leaves_no_process_behind(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    paths = [tree / f"m{i:03d}.py" for i in range(400)]
    for path in paths:
        path.write_text(SITE)
    rewritten = rewrite_source(SITE, "m.py").new
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen([sys.executable, "-m", "rewriter", "fix", "--jobs", "2", "-q", str(tree)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    workers = []
    try:
        deadline = time.monotonic() + 60
        while paths[0].read_text() == SITE and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        time.sleep(3)
        for path in paths:  # still every file old or new
            assert path.read_text() in (SITE, rewritten), path
        assert workers and not [w for w in workers if _alive(w)], "workers outlived the killed run"
    finally:
        for worker in workers:  # only the processes this test started
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)
