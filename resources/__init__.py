"""One configurable Dagster resource per external system; `paperatlas.definitions.build_resources`
builds them all from `Settings`."""
