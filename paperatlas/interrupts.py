"""Ctrl-C for the commands that run Dagster jobs (`run`, `study`): one handler around the whole
command, so that it stops with one line (`paperatlas: interrupted; ...`, exit code 130).

A terminal's Ctrl-C sends SIGINT to every process of the foreground group: to this one, and to
every process a run starts. Those are Dagster's compute-log `tail` and its `watch_orphans.py`
watcher, the PDF workers and the processes of `run --jobs`. Each of them stopped on its own,
printing a KeyboardInterrupt traceback. Dagster made the signal in a step a failed step, which
the command then blamed on an input ("FAILED uai-2023: ...", "set PAPERATLAS_ROR_DUMP ...").

`guard()` (`guarded` for a command's function) works in three parts:

- SIGINT is blocked in the main thread's signal mask. A process started from that thread
  inherits the mask, across exec too, and Python leaves a blocked signal blocked. So none of
  those processes sees the terminal's Ctrl-C: each ends when the command ends it (Dagster
  stops its log copiers, a pool finishes the item in hand), quietly.
- A thread of this module, with SIGINT unblocked, takes the signal for the process. Python then
  runs the main thread's handler at its next step: KeyboardInterrupt, or during a run Dagster's
  own, which stops the step. The thread learns of the signal through Python's wakeup descriptor
  (`signal.set_wakeup_fd`) and notes it (`seen`). It also wakes the main thread from a blocking
  wait (a socket, a lock, a sleep) with SIGUSR1, whose handler does nothing.
- After a run, `check()` raises KeyboardInterrupt when a SIGINT came, whatever Dagster made of it.

The processes of `run --jobs` start the same thread (`serve_worker`, their pool's initializer)
and keep the blocked mask they inherit. There, SIGINT raises KeyboardInterrupt only while the
process works on a run (`armed`; a run stops through Dagster's handler), so a process waiting
for its next run prints no traceback. The command passes SIGINT on to them when it stops
(`forward`), for a SIGINT sent to it alone (`kill -INT`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

F = TypeVar("F", bound=Callable)

WAKE = signal.SIGUSR1  # sent by the listening thread to the main thread, to end a blocking wait
_STOP = 0xFF  # written to the wakeup descriptor to end the listening thread: no signal has this number
_SEEN = threading.Event()
_KEPT = contextlib.ExitStack()  # the guard of a `run --jobs` process, for its whole life
_ARMED = [False]  # in a `run --jobs` process: SIGINT raises (the process works on a run)
_GUARDED = [0]  # how many guards are open in this process


def seen() -> bool:
    """Whether a SIGINT came since the guard started."""
    return _SEEN.is_set()


def keep_blocked() -> None:
    """SIGINT blocked again in the main thread, before a run starts its processes, when a guard
    is open: in case something unblocked it (see `_start_resource_tracker`)."""
    if _GUARDED[0] and threading.current_thread() is threading.main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _start_resource_tracker() -> None:
    """multiprocessing's resource tracker, started now when it is not running. Starting it
    unblocks SIGINT in the thread that starts it (Python 3.11's `resource_tracker.ensure_running`
    unblocks SIGINT and SIGTERM after spawning, instead of restoring the mask), so it must not
    start under the guard: pools started later find it running and leave the mask alone."""
    from multiprocessing import resource_tracker

    with contextlib.suppress(OSError):
        resource_tracker.ensure_running()


def check() -> None:
    """KeyboardInterrupt when a SIGINT came: after a run, which Dagster ends as a failed step
    (or, between steps, as a success) instead of raising."""
    if _SEEN.is_set():
        raise KeyboardInterrupt


def _wake(signum, frame) -> None:
    """SIGUSR1 does nothing: it only ends the main thread's blocking call, so that Python runs
    the SIGINT handler that the listening thread's signal left pending."""


def _note(signum, frame) -> None:
    """SIGINT in a `run --jobs` process: noted; raised only while it works on a run (`armed`)."""
    _SEEN.set()
    if _ARMED[0]:
        raise KeyboardInterrupt


def _listen(read_fd: int, main_thread: int) -> None:
    """The one thread that takes SIGINT: it notes it and wakes the main thread."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    while True:
        try:
            data = os.read(read_fd, 64)
        except OSError:  # the descriptor closed under it
            return
        if int(signal.SIGINT) in data:
            _SEEN.set()
            with contextlib.suppress(OSError):
                signal.pthread_kill(main_thread, WAKE)
        if not data or _STOP in data:
            return


@contextlib.contextmanager
def guard(worker: bool = False) -> Iterator[None]:
    """Ctrl-C for the code inside, as the module's text says. With `worker` (the processes of
    `run --jobs`), SIGINT notes the signal and raises only while `armed`; otherwise the main
    thread's handler stays Python's KeyboardInterrupt. Elsewhere than in the main thread of a
    POSIX process, nothing."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    _SEEN.clear()
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    # Installed by Python without SA_RESTART: a lock or futex wait would be restarted, not ended.
    previous_wake = signal.signal(WAKE, _wake)
    previous_int = signal.signal(signal.SIGINT, _note) if worker else None
    _start_resource_tracker()
    listener = threading.Thread(target=_listen, args=(read_fd, threading.get_ident()),
                                name="paperatlas-interrupts", daemon=True)
    listener.start()
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    _GUARDED[0] += 1
    try:
        yield
    finally:
        _GUARDED[0] -= 1
        with contextlib.suppress(OSError):
            os.write(write_fd, bytes([_STOP]))
        listener.join(5)
        signal.set_wakeup_fd(previous_fd)
        signal.signal(WAKE, previous_wake)
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)
        os.close(write_fd)
        os.close(read_fd)
        # A SIGINT that came after the thread ended is delivered here, as KeyboardInterrupt.
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def guarded(fn: F) -> F:
    """`fn` (a command's function) inside `guard()`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with guard():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def armed() -> Iterator[None]:
    """In a `run --jobs` process, while it works on a run: SIGINT raises KeyboardInterrupt, as
    in the command's own process (the pool hands the exception back to the command); at once
    when one came before."""
    _ARMED[0] = True
    try:
        check()
        yield
    finally:
        _ARMED[0] = False


def serve_worker() -> None:
    """The initializer of a `run --jobs` process: `guard(worker=True)` for the process's life."""
    _KEPT.enter_context(guard(worker=True))


def forward(processes) -> None:
    """Pass SIGINT on to `processes` (multiprocessing's), which block it: their runs stop."""
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            if process.pid and process.is_alive():
                os.kill(process.pid, signal.SIGINT)
