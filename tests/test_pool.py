"""The process pool that reads PDFs: results in order, and a worker that crashes costs one item."""

from __future__ import annotations

import os
import signal

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
print(json.dumps(list(ordered_map(double_or_die, list(range(20)), 2, crashed=lambda n: f"crashed {n}",
                                  chunksize=int(sys.argv[1])))))
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
@pytest.mark.parametrize("chunksize", [1, 3])
def test_a_crashing_item_is_reported_and_the_rest_are_read_in_order(monkeypatch, method, chunksize):
    items = list(range(20))
    if method == "fork":  # in a fresh interpreter: forking pytest's threaded process can deadlock
        from conftest import run_alone

        out = run_alone(FORKED, str(chunksize))
    else:
        monkeypatch.setattr(pool, "start_method", lambda: method)
        out = list(ordered_map(double_or_die, items, 2, crashed=lambda n: f"crashed {n}", chunksize=chunksize))
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
