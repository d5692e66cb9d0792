"""The process pool that reads PDFs: results in order, and a worker that crashes costs one item."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from paperatlas.pipeline import pool
from paperatlas.pipeline.pool import ordered_map


def double_or_die(n: int) -> int:
    if n in (7, 13):
        os.kill(os.getpid(), signal.SIGKILL)  # the pool sees a crash inside MuPDF the same way
    return 2 * n


FORKED = """
import json, os, signal, sys
from paperatlas.pipeline import pool
from paperatlas.pipeline.pool import ordered_map

def double_or_die(n):
    if n in (7, 13):
        os.kill(os.getpid(), signal.SIGKILL)
    return 2 * n

assert pool.start_method() == "fork"  # one thread: the pool forks, as on the command line
print(json.dumps(list(ordered_map(double_or_die, list(range(20)), int(sys.argv[1]),
                                  crashed=lambda n: f"crashed {n}"))))
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
@pytest.mark.parametrize("processes", [1, 3])
def test_a_crashing_item_is_reported_and_the_rest_are_read_in_order(monkeypatch, method, processes):
    items = list(range(20))
    if method == "fork":  # in a fresh interpreter: forking pytest's threaded process can deadlock
        from conftest import run_alone

        out = run_alone(FORKED, str(processes))
    else:
        monkeypatch.setattr(pool, "start_method", lambda: method)
        out = list(ordered_map(double_or_die, items, processes, crashed=lambda n: f"crashed {n}"))
    assert out == [f"crashed {n}" if n in (7, 13) else 2 * n for n in items]


def test_without_crashes_it_is_a_plain_ordered_map():
    assert list(ordered_map(abs, [-3, 2, -1, 0], 2, crashed=lambda n: None)) == [3, 2, 1, 0]


def test_the_command_line_forks_and_a_threaded_step_spawns(monkeypatch):
    import sys
    import threading

    monkeypatch.delitem(sys.modules, "deltalake", raising=False)  # as before any Delta store ran here
    assert pool.start_method() == ("fork" if threading.active_count() == 1 else "spawn")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert pool.start_method() == "spawn"
    finally:
        stop.set()
        thread.join()


def sleep_or_double(n: int) -> int:
    if n == 2:
        import ctypes

        ctypes.CDLL(None).sleep(30)  # a C call Python cannot interrupt, as a hung MuPDF call
    return 2 * n


def allocate_or_double(n: int) -> int:
    if n == 1:
        return len(bytearray(400 << 20))  # 400 MB, over the limit
    return 2 * n


def test_an_item_over_the_time_limit_is_stopped_and_the_rest_go_on(monkeypatch):
    import time

    monkeypatch.setattr(pool, "start_method", lambda: "spawn")
    started = time.monotonic()
    out = list(ordered_map(sleep_or_double, list(range(6)), 2, crashed=lambda n: f"crashed {n}",
                           limits=pool.Limits(seconds=1), over_limit=lambda n, which: f"{which} {n}"))
    assert out == [0, 2, "seconds 2", 6, 8, 10]
    assert time.monotonic() - started < 15  # not the 30 s the hung call asks for


@pytest.mark.skipif(sys.platform != "linux", reason="only Linux enforces RLIMIT_AS")
def test_an_item_over_the_memory_limit_is_reported_and_its_worker_replaced(monkeypatch):
    monkeypatch.setattr(pool, "start_method", lambda: "spawn")
    out = list(ordered_map(allocate_or_double, list(range(5)), 1, crashed=lambda n: f"crashed {n}",
                           limits=pool.Limits(memory_mb=100), over_limit=lambda n, which: f"{which} {n}"))
    assert out == [0, "memory 1", 4, 6, 8]


def test_a_caller_that_stops_early_leaves_no_worker(monkeypatch):
    import multiprocessing

    monkeypatch.setattr(pool, "start_method", lambda: "spawn")
    results = ordered_map(abs, list(range(-10, 10)), 2, crashed=lambda n: None)
    assert next(results) == 10
    results.close()
    assert not multiprocessing.active_children()
