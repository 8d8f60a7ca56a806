"""Ordered map over a list on every CPU the process may use, with ``fork``.

why-pending runs one dry run per node: thousands of independent, CPU-bound calls over one big,
read-only snapshot.  Threads do not help (the GIL); ``multiprocessing`` pools would pickle the
snapshot.  A forked child already has the snapshot, its indexes and every warm cache, so each
worker only sends its results back through a pipe.

The answer never depends on how the work was split: items are dealt out round-robin, results are
put back in input order, and any worker that fails (or any platform without ``fork``, or a
process with other threads running) makes the parent compute those items itself, sequentially.
``KUBECTL_DRA_WORKERS=1`` turns it off; ``KUBECTL_DRA_WORKERS=N`` sets the number of processes.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

WORKERS_ENV = "KUBECTL_DRA_WORKERS"
# Below this many items the fork and the result transfer cost more than they save.
MIN_ITEMS_PER_WORKER = 100
MAX_WORKERS = 8


def available_workers() -> int:
    """Processes to use: ``KUBECTL_DRA_WORKERS`` if set, else the CPUs this process may run on
    (on Linux; elsewhere 1 unless asked: macOS system libraries may run threads of their own that
    make ``fork`` unsafe, which is why Python itself stopped forking there by default)."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            return 1
    if not sys.platform.startswith("linux"):
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def _can_fork() -> bool:
    # Forking while other threads run can leave their locks held in the child.
    return hasattr(os, "fork") and threading.active_count() == 1


def ordered_map(fn: Callable[[T], R], items: Sequence[T], *, workers: int | None = None,
                min_items_per_worker: int = MIN_ITEMS_PER_WORKER) -> list[R]:
    """``[fn(x) for x in items]``, computed by up to ``workers`` processes.

    ``fn`` must be pure as far as the result goes (caches are fine: each child fills its own) and
    its results picklable.  An exception raised by ``fn`` is raised here, as in the sequential
    loop (the parent recomputes the failed worker's items and meets it itself).
    """
    n = len(items)
    if workers is None:
        workers = available_workers()
    workers = min(workers, n // max(1, min_items_per_worker))
    if workers < 2 or not _can_fork():
        return [fn(x) for x in items]
    children: list[tuple[int, int, int]] = []  # (worker index, pid, read fd)
    parent_slots = [0]
    for k in range(1, workers):
        try:
            r, w = os.pipe()
        except OSError:
            parent_slots.append(k)
            continue
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            parent_slots.append(k)
            continue
        if pid == 0:  # child: compute every workers-th item from k, send, leave without cleanup
            os.close(r)
            code = 0
            try:
                data = pickle.dumps([fn(x) for x in items[k::workers]], protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(w, "wb") as out:
                    out.write(data)
            except BaseException:
                code = 1
            os._exit(code)
        os.close(w)
        children.append((k, pid, r))
    results: list = [None] * n
    try:
        for k in parent_slots:
            results[k::workers] = [fn(x) for x in items[k::workers]]
    except BaseException:
        for _, pid, r in children:  # the parent's own items failed: stop the others, then raise
            os.close(r)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            os.waitpid(pid, 0)
        raise
    for k, pid, r in children:
        with os.fdopen(r, "rb") as fh:
            data = fh.read()
        _, status = os.waitpid(pid, 0)
        part = None
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            try:
                part = pickle.loads(data)
            except Exception:
                part = None
        if not isinstance(part, list) or len(part) != len(range(k, n, workers)):
            part = [fn(x) for x in items[k::workers]]  # that worker failed: same answer, computed here
        results[k::workers] = part
    return results
