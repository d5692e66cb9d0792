"""How a venue-year is read: whole, or as sub-partitions (no Dagster here).

A venue-year whose only source can count its works (OpenAlex, its snapshot) and holds more
than the source's split size (PAPERATLAS_OPENALEX_SPLIT) is read as one partition per
publication month, a month still above it as one per primary subfield, and a subfield still
above it as windows of publication days (pipeline/partitions.py). `run` plans the split before materialising and records it in the
table `partition_parts`, so reports can say whether every part of a year is in; the parts'
counts must add up to the year's (the source checks that), so no work is lost or read twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..models import utcnow
from ..partitions import PartitionKey
from .base import Source, SourceError
from .collect import streamed_source
from .plan import SourcePlan


@dataclass(frozen=True)
class Split:
    scope: PartitionKey  # the venue-year (or the month) asked for
    parts: tuple[tuple[PartitionKey, int], ...]  # each partition that reads it, with its count of works
    source: str
    limit: int

    @property
    def keys(self) -> list[str]:
        return [pk.key for pk, _ in self.parts]

    @property
    def works(self) -> int:
        return sum(n for _, n in self.parts)

    @property
    def split(self) -> bool:
        return self.keys != [self.scope.key]

    def describe(self) -> str:
        if not self.split:
            return f"{self.scope}: {self.works} works in {self.source}, read as one partition"
        months = len({pk.month for pk, _ in self.parts})
        by_subfield = len({pk.month for pk, _ in self.parts if pk.subfield})
        by_days = len({(pk.month, pk.subfield) for pk, _ in self.parts if pk.days})
        extra = f", {by_subfield} of them by subfield" if by_subfield else ""
        extra += f", {by_days} subfield{'s' if by_days > 1 else ''} of a month by days" if by_days else ""
        return (f"{self.scope}: {self.works} works in {self.source}, more than {self.limit} "
                f"(PAPERATLAS_OPENALEX_SPLIT): read as {len(self.parts)} sub-partitions ({months} months{extra})")

    def rows(self) -> list[dict]:
        """Rows of `partition_parts`."""
        at = utcnow().replace(tzinfo=None)
        return [{"scope": self.scope.scope, "partition_key": pk.key, "works": n, "source": self.source,
                 "split_limit": self.limit, "planned_at": at} for pk, n in self.parts]


def plan_split(pk: PartitionKey, plan: SourcePlan, sources: Mapping[str, Source]) -> Split | None:
    """The split of `pk`, or None when its source cannot count works or never splits (every
    conference source): it is then read whole, as before. SourceError when the source cannot
    be asked (unreachable, a bad filter) or its counts do not add up."""
    name = streamed_source(pk, plan, sources)
    source = sources.get(name) if name else None
    limit = getattr(getattr(source, "config", None), "split", 0)
    if source is None or not hasattr(source, "parts") or not limit or pk.subfield:
        return None
    try:
        parts = source.parts(pk, plan.venue(pk.venue), limit)
    except SourceError as exc:
        message = str(exc)
        raise SourceError(message if message.startswith(f"[{name}]") else f"[{name}] {message}") from exc
    return Split(pk, tuple(parts), name, limit)
