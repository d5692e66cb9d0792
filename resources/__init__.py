"""One configurable Dagster resource per external system."""

from .paperlists import PaperlistsSource
from .warehouse import WarehouseResource

__all__ = ["PaperlistsSource", "WarehouseResource"]
