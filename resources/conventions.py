"""The counting conventions a run uses: where a multinational named without a place counts
(choices, default and check: pipeline/conventions.py)."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field, field_validator

from paperatlas.pipeline.conventions import PLACEMENT


class Conventions(ConfigurableResource):
    """`placement`: `hq` (headquarters, as Paper Copilot, OpenAlex and Scopus place them) or
    `coauthors` (the country of the paper's other authors where the company has a lab). The
    stored `paper_countries`, `country_edges` and yearly tables follow it; the headline numbers
    and reports carry both placements side by side."""

    placement: str = Field(description="hq or coauthors (PAPERATLAS_PLACEMENT)")

    @field_validator("placement")
    @classmethod
    def _known(cls, value: str) -> str:
        return PLACEMENT.check(value)
