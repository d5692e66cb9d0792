"""Reading many PDFs on all cores, in order, without one bad file taking the batch down.

MuPDF is C: a malformed PDF can crash the process reading it. In a process pool that breaks
the whole pool (`BrokenProcessPool`) and would fail every paper of the venue-year. Here a
broken pool is restarted; the items that were in flight when it broke are then read one by
one, each in a process of its own, so the one that crashes is found, reported through
`crashed(item)`, and the rest go on.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


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


def ordered_map(fn: Callable[[T], R], items: Sequence[T], processes: int, crashed: Callable[[T], R],
                initializer: Callable[..., Any] | None = None, initargs: tuple = (),
                chunksize: int = 1) -> Iterator[R]:
    """fn(item) for every item, yielded in order, in `processes` worker processes.

    `fn`, `initializer` and the items must be picklable (module-level functions). When a worker
    dies, `crashed(item)` stands in for the result of the item that killed it."""
    context = multiprocessing.get_context(start_method())
    done = 0
    while done < len(items):
        try:
            with ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=initializer,
                                     initargs=initargs) as pool:
                try:
                    for result in pool.map(fn, items[done:], chunksize=chunksize):
                        yield result
                        done += 1
                finally:  # also when the caller stops early: queued work is dropped, not waited for
                    pool.shutdown(cancel_futures=True)
        except BrokenProcessPool:
            # The culprit is among the items handed to workers but not yet returned: at most
            # every worker's chunk and the queue the executor fills ahead of them.
            suspects = items[done:done + processes * (chunksize + 1) + 1]
            for item in suspects:
                yield _alone(fn, item, crashed, context, initializer, initargs)
                done += 1


def _alone(fn, item, crashed, context, initializer, initargs):
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=initializer,
                                 initargs=initargs) as pool:
            return pool.submit(fn, item).result()
    except BrokenProcessPool:
        return crashed(item)
