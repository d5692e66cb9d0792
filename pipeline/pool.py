"""Reading many PDFs in worker processes, in order, each file within a time and a memory limit,
without one bad file taking the batch down.

MuPDF is C: a malformed PDF can crash the process reading it, and a PDF built to make it work
can hold it for minutes in one call Python cannot interrupt, allocating gigabytes. So every
item is read in a worker process of ours, one item at a time per worker:

- a worker that dies (a crash, the OOM killer) costs the item it held: `crashed(item)` stands
  in for its result, and a new worker takes its place;
- past `Limits.seconds` on one item the parent kills the worker (SIGKILL: a hung C call ends
  too) and `over_limit(item, SECONDS)` stands in;
- each worker's address space may grow by `Limits.memory_mb` over what it holds when it starts
  (RLIMIT_AS, set in the worker): an allocation past it fails, the item's `MemoryError` becomes
  `over_limit(item, MEMORY)`, and the worker is replaced. Linux enforces RLIMIT_AS; macOS does
  not (the time limit and the page budgets of pdfs/budget.py still hold there).

Results are yielded in the order of the items. Workers start with fork when that is safe (the
command line: at once, with what the parent imported), else spawn or forkserver (`start_method`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

SECONDS, MEMORY = "seconds", "memory"  # the limit an item went over


@dataclass(frozen=True)
class Limits:
    seconds: float | None = None  # wall-clock time one item may take
    memory_mb: float | None = None  # address space a worker may add to read one item


def start_method() -> str:
    """fork when this process has no other thread (the command line): workers start at once,
    with what the parent already imported. Otherwise spawn: a Dagster step has threads of its
    own, and fork would copy them mid-state. Once deltalake has been loaded (the Delta store),
    forkserver: delta-rs runs threads Python cannot see, and panics in a forked child."""
    methods = multiprocessing.get_all_start_methods()
    if "deltalake" in sys.modules:
        return "forkserver" if "forkserver" in methods else "spawn"
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "spawn"


def address_space() -> int | None:
    """This process's virtual memory in bytes (Linux), else None."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def limit_memory(memory_mb: float) -> None:
    """Let this process's address space grow by `memory_mb` at most (RLIMIT_AS), where the
    system keeps that limit."""
    import resource

    now = address_space()
    if now is None:  # macOS has no /proc and does not enforce RLIMIT_AS: nothing to set
        return
    limit = now + int(memory_mb * 1024 * 1024)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _serve(conn, fn, initializer, initargs, memory_mb) -> None:
    """A worker: `fn` on each item it is sent, one at a time, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it ends us
    if initializer is not None:
        initializer(*initargs)
    if memory_mb:
        limit_memory(memory_mb)
    conn.send(None)  # ready: the time limit counts from the first item, not from the start-up
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            reply = (True, fn(job))
        except MemoryError:
            reply = (MEMORY, None)
        except Exception as exc:  # re-raised in the parent, as concurrent.futures does
            reply = (False, exc)
        try:
            conn.send(reply)
        except Exception as exc:  # a result or an error that does not pickle
            conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        if reply[0] == MEMORY:
            return  # what was half-allocated may be left behind: a fresh worker takes over


AHEAD = 2  # items a worker holds: the one it reads and the next, so it never waits for the parent


class _Worker:
    def __init__(self, context, fn, initializer, initargs, memory_mb):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, fn, initializer, initargs, memory_mb),
                                       daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.jobs: deque[tuple[int, Any]] = deque()  # sent, not yet answered; the first is being read
        self.started = 0.0  # when the parent saw the first of them start (never earlier than it did)

    def give(self, job: tuple[int, Any]) -> bool:
        try:
            self.conn.send(job[1])
        except OSError:  # it has just died: the next wait finds it, and the item goes to another
            return False
        if not self.jobs:
            self.started = time.monotonic()
        self.jobs.append(job)
        return True

    def stop(self, kill: bool = False) -> None:
        if self.process.is_alive():
            if kill:
                self.process.kill()
            else:
                try:
                    self.conn.send(None)
                except OSError:
                    self.process.kill()
        self.process.join(None if kill else 5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def ordered_map(fn: Callable[[T], R], items: Sequence[T], processes: int, crashed: Callable[[T], R],
                initializer: Callable[..., Any] | None = None, initargs: tuple = (),
                limits: Limits | None = None, over_limit: Callable[[T, str], R] | None = None) -> Iterator[R]:
    """fn(item) for every item, yielded in order, in up to `processes` worker processes.

    `fn`, `initializer` and the items must be picklable (module-level functions). When a worker
    dies, `crashed(item)` stands in for the result of the item it was reading; when an item goes
    over a limit, `over_limit(item, SECONDS or MEMORY)` (default: `crashed(item)`)."""
    limits = limits or Limits()
    over_limit = over_limit or (lambda item, _which: crashed(item))
    context = multiprocessing.get_context(start_method())
    todo = deque(enumerate(items))
    done: dict[int, R] = {}
    workers: list[_Worker] = []
    wanted = max(1, min(processes, len(items)))
    following = 0
    try:
        while following < len(items):
            while following in done:
                yield done.pop(following)
                following += 1
            if following >= len(items):
                break
            while len(workers) < min(wanted, len(todo) + sum(len(w.jobs) for w in workers)):
                workers.append(_Worker(context, fn, initializer, initargs, limits.memory_mb))
            for depth in range(1, AHEAD + 1):  # one item each first; a second once none is starting
                for worker in workers:
                    if worker.ready and len(worker.jobs) < depth and todo:
                        job = todo.popleft()
                        if not worker.give(job):
                            todo.appendleft(job)
                if not all(w.ready for w in workers):
                    break
            _step(workers, todo, done, limits, crashed, over_limit)
    finally:  # also when the caller stops early, or on Ctrl-C: no worker outlives the map
        for worker in workers:
            worker.stop(kill=bool(worker.jobs))


def _step(workers: list[_Worker], todo: deque, done: dict, limits: Limits, crashed, over_limit) -> None:
    """Wait for a worker to answer, die or run out of time, and act on it."""
    busy = [w for w in workers if w.jobs]
    timeout = None
    if limits.seconds and busy:
        timeout = max(0.0, min(w.started for w in busy) + limits.seconds - time.monotonic())
    wait([x for w in workers for x in (w.conn, w.process.sentinel)], timeout)
    now = time.monotonic()
    for worker in list(workers):
        result: tuple | None = None
        try:
            if worker.conn.poll():
                answer = worker.conn.recv()
                if not worker.ready:
                    worker.ready = True
                    continue
                result = answer
            elif worker.process.is_alive():
                if worker.jobs and limits.seconds and now - worker.started > limits.seconds:
                    result = (SECONDS, None)
                else:
                    continue
        except (EOFError, OSError):  # it died mid-answer
            pass
        job = worker.jobs.popleft() if worker.jobs else None
        if result is not None and result[0] is True:
            done[job[0]] = result[1]
            worker.started = now  # the next one it holds starts now, as far as we can tell
            continue
        if result is not None and result[0] is False:
            raise result[1]
        workers.remove(worker)  # over a limit, or dead: it is ended, and a new one starts if needed
        worker.stop(kill=True)
        todo.extendleft(reversed(worker.jobs))  # the items it held but had not begun go to another
        if job is not None:
            done[job[0]] = over_limit(job[1], result[0]) if result is not None else crashed(job[1])
        elif not worker.ready and todo:  # it died starting (its initializer failed?): charged to
            index, item = todo.popleft()  # the next item, so a worker that never starts ends the map
            done[index] = crashed(item)
