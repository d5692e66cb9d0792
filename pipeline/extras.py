"""The packages beyond the core install, and the one line that says how to get one.

`pip install -e .` is the core: `paperatlas run`, every command and the Dagster UI on one
machine (the DuckDB store). The `scale` extra (pyproject.toml) brings what several machines
need: the Delta Lake store, S3, Dagster's Celery executor with Redis, a PostgreSQL Dagster
instance. Each of those is imported only on the path that needs it; when it is missing, the
error names the extra instead of a bare ModuleNotFoundError.
"""

from __future__ import annotations

import importlib
from types import ModuleType

INSTALL = 'pip install -e ".[scale]"'
# Python module (top level) -> the distribution of the `scale` extra that brings it.
SCALE_MODULES = {
    "deltalake": "deltalake",
    "boto3": "boto3",
    "botocore": "boto3",
    "dagster_celery": "dagster-celery",
    "celery": "dagster-celery",
    "kombu": "dagster-celery",
    "dagster_postgres": "dagster-postgres",
    "psycopg2": "dagster-postgres",
    "redis": "redis",
}


class MissingExtra(ImportError):
    """A package of the `scale` extra is not installed; the message says what needs it and how
    to install it."""


def message(module: str, needed_for: str | None = None) -> str:
    top = module.split(".")[0]
    package = SCALE_MODULES.get(top, top)
    if needed_for:
        return f"{needed_for} needs the {package} package, which the scale extra installs: {INSTALL} (docs/deployment.md)"
    return f"the {package} package is not installed; the scale extra brings it: {INSTALL} (docs/deployment.md)"


def require(module: str, needed_for: str) -> ModuleType:
    """`module` imported, or MissingExtra naming the extra (`needed_for`: the setting or the
    path that needs it, e.g. "PAPERATLAS_EXECUTOR=celery")."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(message(module, needed_for), name=module) from exc


def missing_extra(exc: BaseException) -> str | None:
    """The one line for `exc` if it is, or was raised from, a missing package of the `scale`
    extra (a MissingExtra, or a ModuleNotFoundError Dagster raised loading e.g. the PostgreSQL
    storage a dagster.yaml names); None otherwise."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, MissingExtra):
            return str(exc)
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in SCALE_MODULES:
            return message(exc.name)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return None
