"""rewriter.distributed: the processes and dask backends give the serial outcomes, in file order."""
import sys
import textwrap
from pathlib import Path

import pytest

from rewriter import distributed
from rewriter.distributed import BackendError, map_files, parse_backend
from rewriter.worker import FixJob, process_file

SITE = textwrap.dedent('''\
    import numpy as np
    import tensorflow as tf


    def f(x):
        return np.exp(x) * {k}


    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def g(x):
        return tf.numpy_function(f, [x], tf.float32)
''')


def _tree(tmp_path: Path, n: int = 9) -> list:
    files = []
    for i in range(n):
        path = tmp_path / f"m{i:02d}.py"
        if i == 3:
            path.write_text("def broken(:\n")           # an error outcome travels too
        elif i == 5:
            path.write_text("x = 1  # nothing to do\n")  # unchanged
        else:
            path.write_text(SITE.format(k=i + 1))
        files.append(path)
    return files


def _summary(outcomes):
    return [(o.record.path, o.record.status, o.record.error, [(s.status, s.code) for s in o.record.sites], o.diff)
            for o in outcomes]


@pytest.fixture
def files(tmp_path):
    return _tree(tmp_path)


@pytest.fixture
def serial(files):
    return _summary(process_file(FixJob(write=False), path) for path in files)


def test_parse_backend(monkeypatch):
    monkeypatch.delenv(distributed.SCHEDULER_ENV, raising=False)
    assert parse_backend("processes") == ("processes", None)
    assert parse_backend(None) == ("processes", None)
    assert parse_backend("dask") == ("dask", None)
    assert parse_backend("dask://10.1.2.3:8786") == ("dask", "tcp://10.1.2.3:8786")
    assert parse_backend("dask://tls://sched:8786") == ("dask", "tls://sched:8786")
    monkeypatch.setenv(distributed.SCHEDULER_ENV, "sched:8786")
    assert parse_backend("dask") == ("dask", "tcp://sched:8786")
    with pytest.raises(BackendError, match="unknown backend"):
        parse_backend("threads")
    with pytest.raises(BackendError, match="needs a scheduler address"):
        parse_backend("dask://")


def test_missing_dask_says_what_to_install(monkeypatch, files):
    monkeypatch.setitem(sys.modules, "dask", None)  # `import dask` now raises ImportError
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(BackendError, match=r"install rewriter\[dask\]"):
        map_files(process_file, FixJob(write=False), files, backend="dask")


def test_processes_backend_matches_serial(files, serial):
    assert _summary(map_files(process_file, FixJob(write=False), files, backend="processes", jobs=2)) == serial
    assert _summary(map_files(process_file, FixJob(write=False), files, backend="processes", jobs=1)) == serial


@pytest.fixture(scope="module")
def local_client():
    pytest.importorskip("dask.distributed")
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_backend_matches_serial(local_client, files, serial):
    outcomes = map_files(process_file, FixJob(write=False), files, backend="dask", client=local_client, window=3)
    assert _summary(outcomes) == serial
    statuses = [s[1] for s in serial]
    assert statuses.count("changed") == 7 and statuses[3] == "error" and statuses[5] == "unchanged"


def test_dask_backend_through_a_scheduler_address(local_client, files, serial, monkeypatch):
    """`dask://ADDRESS` connects its own client (here to the in-process test cluster)."""
    monkeypatch.delenv(distributed.SCHEDULER_ENV, raising=False)
    address = local_client.scheduler.address
    outcomes = list(map_files(process_file, FixJob(write=False), files, backend=f"dask://{address}"))
    assert _summary(outcomes) == serial
    monkeypatch.setenv(distributed.SCHEDULER_ENV, address)
    outcomes = list(map_files(process_file, FixJob(write=False), files, backend="dask"))
    assert _summary(outcomes) == serial


def test_dask_backend_writes_files(local_client, tmp_path):
    files = _tree(tmp_path, 4)
    before = {p: p.read_bytes() for p in files}
    expected = {p: process_file(FixJob(write=False), p) for p in files}
    outcomes = list(map_files(process_file, FixJob(write=True), files, backend="dask", client=local_client))
    assert [o.record.status for o in outcomes] == ["changed", "changed", "changed", "error"]
    for path, outcome in zip(files, outcomes):
        if outcome.record.status == "changed":
            assert path.read_bytes() != before[path] and outcome.diff == expected[path].diff
        else:
            assert path.read_bytes() == before[path]


def _explode(job, path):
    if Path(path).name == "m02.py":
        raise RuntimeError("boom")
    return Path(path).name


def test_a_failing_task_names_its_file(local_client, files):
    results = map_files(_explode, None, files, backend="dask", client=local_client)
    assert next(results) == "m00.py"
    assert next(results) == "m01.py"
    with pytest.raises(RuntimeError, match="boom") as info:
        next(results)
    assert any("m02.py" in note for note in getattr(info.value, "__notes__", ["m02.py"]))


def test_stopping_early_cancels_the_rest(local_client, files):
    results = map_files(process_file, FixJob(write=False), files, backend="dask", client=local_client, window=2)
    first = next(results)
    results.close()
    assert first.record.path == str(files[0])
    assert local_client.status == "running"  # a client it was given stays open


def test_dask_backend_starts_its_own_local_cluster(files, serial, monkeypatch):
    """No client and no address: a LocalCluster of worker processes, closed afterwards."""
    pytest.importorskip("dask.distributed")
    monkeypatch.delenv(distributed.SCHEDULER_ENV, raising=False)
    assert _summary(map_files(process_file, FixJob(write=False), files, backend="dask", jobs=2)) == serial
