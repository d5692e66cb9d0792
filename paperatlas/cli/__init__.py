"""The `paperatlas` command line: `paperatlas --help` lists the commands, docs/commands.md
describes each in full.

One module per command group (`run`: run, partitions, add-folder; `figures`: report, trend,
diff, papers, explain; `countries`: country, ranking; `review`; `sources`: sources, errors;
`store`: store, worker; `files`: resolve, extract-pdf, mentions; `ui`), on a shared base
(`common`, `options`, `execution`: the Dagster runs), and the parser that puts them together
(`parser`). Here: `main`, and the one line a user reads for an error no command handled.

pandas, DuckDB and Dagster load only for the commands that use them: `resolve` starts in a
fraction of a second.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time

from ..pipeline.config import Settings, load_settings
from . import common
from .common import CliError
from .parser import build_parser

__all__ = ["CliError", "build_parser", "main"]


def _os_problem(exc: OSError, settings: Settings) -> str:
    """One line for an error of the file system: the file, the cause and the fix."""
    where = exc.filename or settings.home
    cause = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return f"{where}: {cause}; free disk space and run again (what was written before is kept)"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (f"{where}: {cause}; this command writes there. Set PAPERATLAS_HOME (and DAGSTER_HOME) to a "
                "writable folder; reading commands (report, errors, papers, explain, trend, country, ranking, diff) "
                "work read-only")
    if exc.errno == errno.ENAMETOOLONG:
        return f"{where}: {cause}; use a shorter name"
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        return f"{where}: {cause}: a file is where a folder is needed; give another path"
    return f"{where}: {cause}"


def main(argv: list[str] | None = None) -> int:
    common.STARTED[0] = time.monotonic()
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):  # a bare `paperatlas`: the commands, not an error
        parser.print_help()
        return 2
    # `ui` hands what it does not know to `dagster dev` (-p 3000, -h 127.0.0.1); elsewhere an
    # unknown argument is an error, as argparse says it.
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "ui":
        parser.parse_args(argv)  # exits with argparse's own message about the unknown argument
    args.dagster_args = [a for a in extra if a != "--"] if args.command == "ui" else []
    try:
        settings = load_settings()
    except ValueError as exc:  # a setting with a value it cannot take, e.g. PAPERATLAS_PLACEMENT=head
        print(f"paperatlas: {exc}", file=sys.stderr)
        return 2
    # Arrow on the system allocator here too, for the reports (pipeline.store.system_arrow_memory);
    # through Arrow's own variable when pyarrow is not loaded yet, which the processes this one
    # starts (runs at once, `ui`) inherit.
    if "pyarrow" in sys.modules:
        from ..pipeline.store import system_arrow_memory

        system_arrow_memory()
    else:
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    try:
        return args.func(args, settings)
    except CliError as exc:
        print(f"paperatlas: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `paperatlas resolve | head`
        return 0
    except KeyboardInterrupt:
        with _deaf():  # a second Ctrl-C while the line is written is no traceback
            print("paperatlas: interrupted; what was written is kept (each venue-year is replaced whole), "
                  "run the command again to finish", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"paperatlas: {_os_problem(exc, settings)}", file=sys.stderr)
        return 2
    except Exception as exc:  # the store, Dagster's own storage, or a bug: one line, never a traceback
        print(f"paperatlas: {_unexpected(exc, settings)}", file=sys.stderr)
        return 2


@contextlib.contextmanager
def _deaf():
    """SIGINT ignored inside (in the main thread; elsewhere nothing changes)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _unexpected(exc: Exception, settings: Settings) -> str:
    """One line for an error no command handled: the store, Dagster's storage, or a bug."""
    from ..pipeline.extras import missing_extra
    from ..pipeline.models import root_cause, root_error
    from ..pipeline.store import StoreError

    if isinstance(exc, StoreError):
        return str(exc)
    if extra := missing_extra(exc):  # a package of the scale extra, e.g. the PostgreSQL a dagster.yaml names
        return extra
    root = root_cause(exc)
    if isinstance(root, OSError):
        return _os_problem(root, settings)
    text = root_error(exc)
    module = type(exc).__module__ or ""
    if module.startswith(("sqlalchemy", "sqlite3")) or "sqlite" in text.lower() or "disk I/O" in text:
        return (f"the Dagster instance under {settings.dagster_home} cannot be used ({text}); free disk space, "
                "or set DAGSTER_HOME to a writable folder")
    if module.startswith(("duckdb", "_duckdb")):
        return f"{settings.database}: the store failed ({text}); free disk space, or move the file aside and re-run"
    return f"unexpected error: {text} (please report it with the command you ran)"
