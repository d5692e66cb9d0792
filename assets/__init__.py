"""Thin Dagster assets and asset checks, one module per stage of the data flow."""
