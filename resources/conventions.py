"""The counting conventions a run uses: where a multinational named without a place counts."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field, field_validator

from paperatlas.pipeline.countries.decision import PLACEMENTS


class Conventions(ConfigurableResource):
    """`placement`: `hq` (headquarters, as Paper Copilot, OpenAlex and Scopus place them) or
    `coauthors` (the country of the paper's other authors where the company has a lab). The
    stored `paper_countries`, `country_edges` and yearly tables follow it; the headline numbers
    and reports carry both placements side by side."""

    placement: str = Field(description="hq or coauthors (PAPERATLAS_PLACEMENT)")

    @field_validator("placement")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in PLACEMENTS:
            raise ValueError(f"placement {value!r}: choose one of {', '.join(PLACEMENTS)}")
        return value
