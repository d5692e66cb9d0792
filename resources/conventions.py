"""The counting conventions a run uses: where a multinational named without a place counts
(choices, default and check: pipeline/conventions.py), and the country groups (non-Western,
EU, G7, …) a ranking may be kept to."""

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
    country_groups: str = Field("", description="the country groups file laid over the built-in groups "
                                                "(PAPERATLAS_COUNTRY_GROUPS); empty: the built-in groups only")

    @field_validator("placement")
    @classmethod
    def _known(cls, value: str) -> str:
        return PLACEMENT.check(value)
