"""The venue-year partitions: dynamic, so a user adds `icml-2019` without editing code
(`paperatlas run icml-2019`, `paperatlas partitions add`, or the UI's "add partition")."""

from dagster import DynamicPartitionsDefinition

VENUE_YEAR = "venue_year"
venue_year_partitions = DynamicPartitionsDefinition(name=VENUE_YEAR)
