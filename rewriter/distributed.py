"""Where `rewriter fix` runs its per-file work: local worker processes, or a Dask cluster.

    map_files(process_file, job, files, backend="processes", jobs=4)       # what the CLI does
    map_files(process_file, job, files, backend="dask", jobs=4)            # a LocalCluster
    map_files(process_file, job, files, backend="dask://10.0.0.5:8786")    # an existing scheduler

Both return an iterator over `fn(job, path)` for every path, **in file order**, so output and
reports do not depend on which worker finished first. `fn` and `job` must be picklable
(`worker.process_file` and `worker.FixJob` are).

Backends:

``processes``
    `concurrent.futures.ProcessPoolExecutor` with `jobs` workers; in this process when
    `jobs <= 1` or there are fewer than 8 files (starting workers would cost more than it saves).
``dask``
    `dask.distributed`. The scheduler is the `dask://ADDRESS` of the backend string, else the
    environment variable ``REWRITER_DASK_SCHEDULER``, else a `LocalCluster` of `jobs` worker
    processes (one thread each) started for this call and closed after it. ADDRESS is
    ``host:port`` (TCP) or a full Dask address (``tls://host:port``, ``inproc://...``).
    One task per file; at most `window` tasks are in flight at a time (by default four per
    worker thread), and a new one is submitted as each result is handed out, so a large tree
    costs neither a huge task graph nor memory for results that wait for an earlier file.

With a remote scheduler the workers read and write the files themselves, so they must see them
at the same paths (a shared file system) and have this version of rewriter installed. Relative
paths are made absolute before they are sent, since a worker's working directory is its own.

Dask is imported only by the dask backend. Without it, `BackendError` says to install
``rewriter[dask]``.
"""
from __future__ import annotations

import collections
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Iterator

SCHEDULER_ENV = "REWRITER_DASK_SCHEDULER"
BACKENDS = ("processes", "dask")
DASK_HINT = "the dask backend needs dask.distributed: install rewriter[dask] (pip install 'rewriter[dask]')"


class BackendError(Exception):
    """A backend that can't be used: unknown name, dask missing, scheduler unreachable."""


def parse_backend(backend: str | None) -> tuple:
    """("processes", None) or ("dask", scheduler address or None for a LocalCluster)."""
    backend = (backend or "processes").strip()
    if backend == "processes":
        return "processes", None
    if backend == "dask":
        address = os.environ.get(SCHEDULER_ENV, "").strip()
        return "dask", _address(address) if address else None
    if backend.startswith("dask://"):
        address = backend[len("dask://"):].strip()
        if not address:
            raise BackendError("dask:// needs a scheduler address, e.g. dask://127.0.0.1:8786")
        return "dask", _address(address)
    raise BackendError(f"unknown backend {backend!r}: expected processes, dask or dask://HOST:PORT")


def _address(text: str) -> str:
    return text if "://" in text else f"tcp://{text}"


def map_files(fn: Callable, job, files: Iterable, backend: str | None = "processes", jobs: int | None = None,
              *, client=None, window: int | None = None) -> Iterator:
    """`fn(job, path)` for every path in `files`, yielded in file order.

    The backend's name is checked, and dask imported, before this returns: an unknown
    backend or a missing dask raises `BackendError` here, not at the first result (a
    scheduler that can't be reached raises it at the first result). `client` (dask backend only) uses an existing
    `dask.distributed.Client`, which is left open; `window` caps the dask tasks in flight.
    Exceptions raised by `fn` are re-raised here, with a note naming the file.
    """
    files = list(files)
    jobs = jobs or os.cpu_count() or 1
    kind, address = ("dask", None) if client is not None else parse_backend(backend)
    if kind == "processes":
        return _processes(fn, job, files, jobs)
    _import_dask()
    if address is not None:
        files = [_absolute(f) for f in files]
    return _dask(fn, job, files, jobs, address, client, window)


def _absolute(path):
    """`path` made absolute, of the same type (str or Path)."""
    if os.path.isabs(path):
        return path
    absolute = os.path.abspath(path)
    return absolute if isinstance(path, str) else type(path)(absolute)


def _processes(fn, job, files, jobs):
    if jobs <= 1 or len(files) < 8:
        for path in files:
            yield _named(fn, job, path)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(fn, [job] * len(files), files, chunksize=max(1, len(files) // (jobs * 8)))


def _named(fn, job, path):
    try:
        return fn(job, path)
    except Exception as exc:
        _note(exc, path)
        raise


def _note(exc: BaseException, path) -> None:
    add_note = getattr(exc, "add_note", None)  # Python 3.11+
    if add_note is not None:
        add_note(f"while processing {path}")


def _import_dask():
    try:
        import dask.distributed  # noqa: F401
    except ImportError as exc:
        raise BackendError(f"{DASK_HINT} ({exc})") from None


def _dask(fn, job, files, jobs, address, client, window):
    from dask.distributed import Client, LocalCluster

    own_client = client is None
    cluster = None
    pending = collections.deque()  # (path, future) in file order
    if own_client:
        try:
            if address is None:
                cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=logging.ERROR)
                client = Client(cluster)
            else:
                client = Client(address, timeout="30s")
        except (OSError, TimeoutError) as exc:
            if cluster is not None:
                cluster.close()
            where = address or "a local cluster"
            raise BackendError(f"cannot reach the dask scheduler at {where}: {exc}") from None
    try:
        if window is None:
            threads = sum(client.nthreads().values()) or jobs
            window = max(8, 4 * threads)
        queue = iter(files)

        def submit_one() -> bool:
            path = next(queue, None)
            if path is None:
                return False
            pending.append((path, client.submit(fn, job, path, pure=False)))
            return True

        for _ in range(window):
            if not submit_one():
                break
        while pending:
            path, future = pending.popleft()
            try:
                result = future.result()
            except Exception as exc:
                _note(exc, path)
                raise
            submit_one()
            yield result
    finally:
        for _, future in pending:  # the caller stopped early, or a task failed
            future.cancel()
        if own_client:
            client.close()
            if cluster is not None:
                cluster.close()
