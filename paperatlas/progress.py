"""What the command line shows of a Dagster run while it goes: one short line per step start,
finish and failure, per failed check and per message an asset logs; and a failed step's
reason in one line.

Dagster hands a logger standard `logging` records. Those of a run carry their context in the
record's `dagster_meta` field: the same field Dagster's public `json_console_logger` writes
out, with the run's `DagsterEvent` (public) under `dagster_event`. Only public Dagster names
are imported here.

The lines go to a duplicate of the standard error taken before the runs (`keep_stderr`), not
through file descriptor 2: while a run goes, Dagster's compute-log capture points descriptor 2
at a file and copies it back to the terminal with `tail -F`, which reads once a second and is
stopped when the run ends, so what a run wrote in its last second could be lost ("ok
venue_year_report" missing from some runs; dagster-io/dagster#23336).
"""

from __future__ import annotations

import logging
import os
import sys
import time

from dagster import Field, logger

from .interrupts import seen
from .pipeline.text import display

META = "dagster_meta"  # the field json_console_logger prints for every record of a run
_STDERR: list = []  # the duplicate of descriptor 2 that keep_stderr took, once per process


def keep_stderr() -> None:
    """Take a duplicate of the standard error's descriptor now, before a Dagster run captures
    descriptor 2 (the command line calls it first thing, and each process `run --jobs` starts)."""
    if _STDERR:
        return
    try:
        _STDERR.append(os.fdopen(os.dup(2), "w", encoding=sys.stderr.encoding or "utf-8", errors="replace"))
    except (OSError, AttributeError):  # no descriptor 2: lines go to sys.stderr as it is
        pass


def _stream():
    """Where a line goes: the kept duplicate while sys.stderr is descriptor 2, else sys.stderr
    as it is now (a test's capture, or a stream a caller put there)."""
    stream = sys.stderr
    try:
        if _STDERR and stream.fileno() == 2:
            return _STDERR[0]
    except (AttributeError, OSError, ValueError):
        pass
    return stream


# What Dagster makes of a SIGINT (or a SIGTERM) in a step: the step fails with one of these.
INTERRUPTS = ("DagsterExecutionInterruptedError", "KeyboardInterrupt")


def interrupted_failure(event) -> bool:
    """Whether `event` is a step that failed because the run was interrupted (Ctrl-C), not
    because of anything in its input."""
    if event.event_type_value != "STEP_FAILURE":
        return False
    data = event.step_failure_data
    error = data.error if data else None
    while error is not None:
        if error.cls_name in INTERRUPTS:
            return True
        error = error.cause or error.context
    return False


def failure_reason(event) -> str:
    """The user-facing reason of a STEP_FAILURE event: a Failure's description, else the error."""
    data = event.step_failure_data
    user = data.user_failure_data if data else None
    if user and user.description:
        return user.description
    if data and data.error:
        error = data.error
        while error.cause is not None or error.context is not None:  # the error under the wrappers
            error = error.cause or error.context
        return (error.message.strip().splitlines() or [error.cls_name or "failed"])[-1]
    return "failed"


class _ProgressHandler(logging.Handler):
    """One short line per step start/finish and per message an asset logs."""

    def __init__(self, label: str = ""):
        super().__init__(logging.DEBUG)  # step events arrive at DEBUG
        self.started: dict[str, float] = {}
        self.label = label

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, META, None)
        if not isinstance(meta, dict) or seen():  # after Ctrl-C the command's one line says it all
            return
        event = meta.get("dagster_event")
        if event is not None and interrupted_failure(event):
            return
        step = meta.get("step_key") or ""
        line = None
        if event is None:
            # What the assets log (INFO, WARNING). Dagster's own ERROR lines about steps skipped
            # after a failure ("Dependencies for step ... Not executing.") stay in the run log:
            # the failure itself is one line below, and again in the command's summary.
            if step and logging.INFO <= record.levelno < logging.ERROR:
                line = f"    {meta.get('orig_message')}"
        elif event.event_type_value == "STEP_START":
            self.started[step] = time.monotonic()
            line = f"  > {step}"
        elif event.event_type_value == "STEP_SUCCESS":
            took = time.monotonic() - self.started.get(step, time.monotonic())
            line = f"  ok {step} ({took:.1f}s)"
        elif event.event_type_value == "STEP_FAILURE":
            line = f"  FAILED {step} (the cause is in the summary at the end)"
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if data is not None and not data.passed:
                line = f"  check failed: {data.asset_key.to_user_string()}.{data.check_name}"
        if line:
            body = line.lstrip(" ")
            # "  neurips-2020-m01 > raw_papers": runs going at once stay apart (a message that
            # starts with its key already says it once)
            if self.label and not body.startswith(f"{self.label}:"):
                line = f"{line[:len(line) - len(body)]}{self.label} {body}"
            print(display(line), file=_stream(), flush=True)  # looked up now: tests swap stderr


@logger(config_schema={"label": Field(str, default_value="", description="shown before each step, for runs "
                                       "that go at once (the partition key)")},
        description="Short progress lines on stderr, for the paperatlas command line.")
def progress_logger(init_context) -> logging.Logger:
    label = init_context.logger_config["label"]
    log = logging.getLogger("paperatlas.progress" + (f".{label}" if label else ""))
    log.setLevel(logging.DEBUG)
    log.propagate = False
    if not log.handlers:
        log.addHandler(_ProgressHandler(label))
    return log
