"""The pre-commit hooks (`.pre-commit-hooks.yaml`) as a project using them runs them:
`pre-commit try-repo` installs this repository into pre-commit's own environment and runs
each hook on a staged file of a fresh git repository."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SITE = """\
import numpy as np
import tensorflow as tf


def row_energy(x):
    return np.sum(x ** 2, axis=1)


@tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
def program(x):
    return tf.numpy_function(row_energy, [x], tf.float32)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    if not (ROOT / ".git").exists():
        pytest.fail("the tests run from a git checkout: pre-commit try-repo needs one")
    folder = tmp_path_factory.mktemp("project")
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    return folder


def try_repo(project: Path, hook: str, name: str):
    env = dict(os.environ, PRE_COMMIT_HOME=str(project.parent / "pre-commit-home"), PRE_COMMIT_COLOR="never")
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--files", name]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, env=env, timeout=900)


def stage(project: Path, name: str, text: str) -> Path:
    path = project / name
    path.write_text(text)
    subprocess.run(["git", "add", name], cwd=project, check=True)
    return path


def test_the_check_hook_reports_a_site_and_changes_nothing(project):
    path = stage(project, "check_me.py", SITE)
    done = try_repo(project, "rewriter-check", "check_me.py")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "RWC001" in done.stdout and "check_me.py:11:12" in done.stdout
    assert path.read_text() == SITE


def test_the_fix_hook_rewrites_and_then_passes(project):
    path = stage(project, "fix_me.py", SITE)
    done = try_repo(project, "rewriter", "fix_me.py")
    assert done.returncode == 1 and "files were modified by this hook" in done.stdout, done.stdout + done.stderr
    assert "tf.numpy_function" not in path.read_text() and "tf.reduce_sum" in path.read_text()
    subprocess.run(["git", "add", "fix_me.py"], cwd=project, check=True)
    again = try_repo(project, "rewriter", "fix_me.py")
    assert again.returncode == 0, again.stdout + again.stderr

