"""One configurable Dagster resource per external system; `pipeline.definitions.build_resources`
builds them all from `Settings`."""
