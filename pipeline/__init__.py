"""paperatlas domain code: plain Python, no Dagster imports (except definitions.py and cli.py)."""

__version__ = "0.1.0"
