"""Where runs execute: local processes (the default) or a Dask cluster.

Both take a picklable function and a list of batches and yield results as
batches finish, in whatever order. Results never depend on the executor: each
run's randomness is fixed by its replication number (``design.py``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

EXECUTORS = ("local", "dask")
SCHEDULER_TIMEOUT_S = 10


def _single_threaded_children() -> None:
    # Each worker is one process doing one run at a time; BLAS threads would only
    # oversubscribe the cores.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


class LocalExecutor:
    """A pool of local processes; with one worker, runs in this process.

    With ``keep_alive`` the pool outlives a call to ``imap_unordered`` (a calibration
    makes hundreds of short calls; starting workers costs about a second each) until
    ``close``.
    """

    def __init__(self, workers: int | None = None, keep_alive: bool = False) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.keep_alive = keep_alive
        self._pool: ProcessPoolExecutor | None = None

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        items = list(items)
        if self.workers == 1:
            for item in items:
                yield fn(item)
            return
        _single_threaded_children()
        # "spawn" explicitly: `import mesa` switches the default to it anyway, and
        # forking a process that holds threads is unsafe.
        if self._pool is not None:
            pool = self._pool
        else:
            size = self.workers if self.keep_alive else min(self.workers, len(items)) or 1
            pool = ProcessPoolExecutor(max_workers=size, mp_context=mp.get_context("spawn"))
            if self.keep_alive:
                self._pool = pool
        try:
            pending = set()
            queue = iter(items)
            # Keep two batches per worker in flight so results stream as they finish.
            for item in queue:
                pending.add(pool.submit(fn, item))
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending.add(pool.submit(fn, nxt))
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM) or failed: stop the workers now rather than
            # letting each finish a batch whose result nobody will store.
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            raise
        if not self.keep_alive:
            pool.shutdown(wait=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def describe(self) -> str:
        return f"local processes ({self.workers} worker{'s' if self.workers > 1 else ''})"


class DaskExecutor:
    """Dask distributed: a running scheduler (``address``) or a local cluster."""

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as err:  # pragma: no cover - dask is a dependency
            raise RuntimeError("the dask executor needs dask[distributed] installed") from err
        self.address = address
        self._cluster = None
        if address:
            try:
                self.client = Client(address, timeout=SCHEDULER_TIMEOUT_S)
            except (OSError, TimeoutError) as err:
                raise RuntimeError(
                    f"--scheduler: cannot reach a Dask scheduler at {address} within "
                    f"{SCHEDULER_TIMEOUT_S} s ({type(err).__name__}); start one with "
                    "`dask scheduler` and check the address, or leave out --scheduler for "
                    "a local cluster") from None
        else:
            _single_threaded_children()
            self._cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1,
                                         threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self.client = Client(self._cluster)

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        from distributed import as_completed

        futures = self.client.map(fn, list(items), pure=False)
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            self.client.cancel(futures)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def describe(self) -> str:
        if self.address:
            return f"Dask scheduler at {self.address}"
        return f"Dask local cluster ({len(self.client.scheduler_info()['workers'])} workers)"


def make_executor(kind: str = "local", workers: int | None = None,
                  scheduler: str | None = None, keep_alive: bool = False
                  ) -> LocalExecutor | DaskExecutor:
    if kind == "local":
        if scheduler:
            raise ValueError("--scheduler needs --executor dask")
        return LocalExecutor(workers, keep_alive=keep_alive)
    if kind == "dask":
        return DaskExecutor(scheduler, workers)
    raise ValueError(f"--executor: unknown executor {kind!r} (allowed: {', '.join(EXECUTORS)})")
