"""Generated OpenAlex works for scale tests and benchmarks: `GeneratedWorks(n, year, seed)`
holds N works of one publication year without holding them: each work is made on demand from
its index (`works[i]`, `works.work(i)`), the same for the same (n, year, seed) every time.

    with serve_openalex(GeneratedWorks(1_000_000, year=2020)) as base: ...
    python tests/openalex_server.py --generate 1000000 --year 2020     # its own process

The works have the documented shape of OpenAlex's `/works` (id, doi, display_name,
publication_year/date, type, primary_topic, topics, authorships with author, institutions,
countries and raw_affiliation_strings, abstract_inverted_index, primary_location,
best_oa_location ...). The institutions, their countries and the affiliation strings are real
names; every OpenAlex id (W, A, I, S, T) is invented, and institutions carry no ROR id.

- publication_date: spread over the 12 months (more in January, as OpenAlex's dates are);
- type: article, preprint (arXiv, always with a PDF) or review;
- every work lists a topic in subfield 1702 (Artificial Intelligence), so `airesearch`'s
  filter (`topics.subfield.id:1702,type:article|preprint|review`) selects all of them; its
  `primary_topic` lies in 1702, 1707, 1710, 2718, 1705 or 1712, and ~4% have none (null);
- 1–6 authors, mostly from one institution's country; a few % of works have both US and CN
  authors; ~8% of authors give two affiliations.

Filtering is fast because the fields filters look at are pure functions of the index: month,
day, primary subfield and type come from a hash of (seed, index), computed for all N once
(vectorised, in chunks, one byte per work and field: 4 MB at 1M). `select(filter)` turns the
filter parts it knows (publication_year, from/to_publication_date, primary_topic.subfield.id,
type, topics.subfield.id with 1702; values, `|` lists, `null`, `!`) into a mask over those arrays and keeps
the matching indices (int32); any other part is checked on the works that survive, built one by
one. The last few selections are cached; pages build only their own works."""

from __future__ import annotations

import bisect
import calendar
import threading
from collections import OrderedDict

import numpy as np
from openalex_server import _norm, _split, group_counts, part_matches
from openalex_shapes import (
    GOLDEN,
    MONTH_CUM,
    MUL1,
    MUL2,
    SUBFIELD_CUM,
    SUBFIELDS,
    TYPE_CUM,
    TYPES,
    Rng,
    build_work,
    mix,
)

SALT_MONTH, SALT_DAY, SALT_SUBFIELD, SALT_TYPE, SALT_REST = 1, 2, 3, 4, 5
CHUNK = 1 << 16


def mix_array(x: np.ndarray) -> np.ndarray:
    """`mix` on a uint64 array (wrapping arithmetic, as the masks above)."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(GOLDEN)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(MUL1)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(MUL2)
    return x ^ (x >> np.uint64(31))


def _lookup(codes: np.ndarray, wanted: list[int]) -> np.ndarray:
    """Whether each code (uint8) is one of `wanted`: a table lookup, one byte a work."""
    table = np.zeros(256, dtype=bool)
    table[wanted] = True
    return table[codes]


class GeneratedWorks:
    """N OpenAlex works of `year`, made from their index on demand (see the module's doc)."""

    def __init__(self, n: int, year: int = 2020, seed: int = 0, cache: int = 8):
        if n < 0 or n >= 1 << 31 or not 0 <= seed < 1 << 20:
            raise ValueError("GeneratedWorks: 0 <= n < 2**31 and 0 <= seed < 2**20")
        self.n, self.year, self.seed = n, year, seed
        self._arrays: dict[str, np.ndarray] | None = None
        self._cache: OrderedDict[str, IndexSelection] = OrderedDict()
        self._cache_size = cache
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        return self.work(i)

    def __iter__(self):
        return (self.work(i) for i in range(self.n))

    # -- the fields filters look at: pure functions of the index ------------------------------

    def _key(self, salt: int) -> int:
        return (self.seed << 44) ^ (salt << 36)

    def _hash(self, i: int, salt: int) -> int:
        return mix(self._key(salt) ^ i)

    def month(self, i: int) -> int:
        return bisect.bisect_right(MONTH_CUM, self._hash(i, SALT_MONTH) % MONTH_CUM[-1]) + 1

    def day(self, i: int) -> int:
        return self._hash(i, SALT_DAY) % calendar.monthrange(self.year, self.month(i))[1] + 1

    def subfield_code(self, i: int) -> int:
        """0: no primary topic; else 1 + the index of the primary topic's subfield in SUBFIELDS[1:]."""
        return bisect.bisect_right(SUBFIELD_CUM, self._hash(i, SALT_SUBFIELD) % SUBFIELD_CUM[-1])

    def type_code(self, i: int) -> int:
        return bisect.bisect_right(TYPE_CUM, self._hash(i, SALT_TYPE) % TYPE_CUM[-1])

    def arrays(self) -> dict[str, np.ndarray]:
        """month, day, subfield code and type code of every work (uint8 each), made once."""
        with self._lock:
            if self._arrays is None:
                self._arrays = self._make_arrays()
            return self._arrays

    def _make_arrays(self) -> dict[str, np.ndarray]:
        out = {name: np.empty(self.n, dtype=np.uint8) for name in ("month", "day", "subfield", "type")}
        days = np.array([0] + [calendar.monthrange(self.year, m)[1] for m in range(1, 13)], dtype=np.uint64)
        for lo in range(0, self.n, CHUNK):
            idx = np.arange(lo, min(lo + CHUNK, self.n), dtype=np.uint64)

            def hashed(salt: int, idx=idx) -> np.ndarray:
                return mix_array(np.uint64(self._key(salt)) ^ idx)
            month = np.searchsorted(MONTH_CUM, hashed(SALT_MONTH) % np.uint64(MONTH_CUM[-1]), side="right") + 1
            out["month"][lo:lo + len(idx)] = month
            out["day"][lo:lo + len(idx)] = hashed(SALT_DAY) % days[month] + np.uint64(1)
            out["subfield"][lo:lo + len(idx)] = np.searchsorted(
                SUBFIELD_CUM, hashed(SALT_SUBFIELD) % np.uint64(SUBFIELD_CUM[-1]), side="right")
            out["type"][lo:lo + len(idx)] = np.searchsorted(
                TYPE_CUM, hashed(SALT_TYPE) % np.uint64(TYPE_CUM[-1]), side="right")
        return out

    # -- filters ------------------------------------------------------------------------------

    def select(self, flt: str) -> IndexSelection:
        """The works `flt` selects, as their indices (cached for the last few filters)."""
        with self._lock:
            if flt in self._cache:
                self._cache.move_to_end(flt)
                return self._cache[flt]
        parts = [_split(p) for p in flt.split(",") if p.strip()]
        mask = None
        rest = []
        for key, value in parts:
            negate = value.startswith("!")
            part = self._mask(key, value[1:] if negate else value)
            if part is None:
                rest.append((key, value))
                continue
            if isinstance(part, np.ndarray) and negate:
                part = ~part
            elif negate:
                part = not part
            if part is False:
                mask = np.zeros(self.n, dtype=bool)
            elif part is not True:
                if mask is None:
                    mask = part
                else:
                    mask &= part
        index = np.arange(self.n, dtype=np.int32) if mask is None else np.flatnonzero(mask).astype(np.int32)
        del mask
        if rest:  # parts only a built work can answer
            index = np.array([i for i in index.tolist() if all(part_matches(self.work(i), k, v) for k, v in rest)],
                             dtype=np.int32)
        selection = IndexSelection(self, index)
        with self._lock:
            self._cache[flt] = selection
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return selection

    def _mask(self, key: str, value: str):
        """A filter part as a mask over the works, True/False for all of them, or None when
        only the built works can answer it."""
        options = [v.strip() for v in value.split("|")]
        if key == "publication_year":
            def within(v: str) -> bool:
                low, _, high = v.partition("-")
                return int(low) <= self.year <= int(high or low)
            return any(within(v) for v in options)
        if key in ("from_publication_date", "to_publication_date"):
            year, month, day = (int(x) for x in value.split("-"))
            if year != self.year:
                return (year < self.year) == (key == "from_publication_date")
            a = self.arrays()
            mmdd = a["month"].astype(np.uint16) * np.uint16(100) + a["day"]
            return mmdd >= month * 100 + day if key == "from_publication_date" else mmdd <= month * 100 + day
        wanted = {_norm(v) for v in options}
        if key == "type":
            codes = [c for c, (name, _) in enumerate(TYPES) if name in wanted]
            return _lookup(self.arrays()["type"], codes)
        if key in ("primary_topic.subfield.id", "topics.subfield.id"):
            codes = [c for c, s in enumerate(SUBFIELDS) if s and s[0] in wanted]
            if key == "primary_topic.subfield.id":
                return _lookup(self.arrays()["subfield"], codes + ([0] if "null" in wanted else []))
            # every work lists a topic in 1702; other topics are drawn with the work's details
            return True if "1702" in wanted else None
        return None

    # -- one work ----------------------------------------------------------------------------

    def work(self, i: int) -> dict:
        """Work `i` (0 <= i < n) in OpenAlex's shape."""
        if not 0 <= i < self.n:
            raise IndexError(i)
        return build_work(self, i, Rng(self._hash(i, SALT_REST)))


class IndexSelection:
    """The works of a GeneratedWorks a filter selects: their indices, in order."""

    def __init__(self, works: GeneratedWorks, index: np.ndarray):
        self.works, self.index = works, index

    def __len__(self) -> int:
        return len(self.index)

    def page(self, offset: int, size: int) -> list[dict]:
        return [self.works.work(i) for i in self.index[offset:offset + size].tolist()]

    def groups(self, path: str, unknown: bool) -> list[dict]:
        if path != "primary_topic.subfield.id":
            return group_counts((self.works.work(i) for i in self.index.tolist()), path, unknown)
        counts = np.bincount(self.works.arrays()["subfield"][self.index], minlength=len(SUBFIELDS))
        groups = [{"key": f"https://openalex.org/subfields/{s[0]}", "key_display_name": s[1], "count": int(n)}
                  for s, n in zip(SUBFIELDS[1:], counts[1:]) if n]
        if unknown and counts[0]:
            groups.append({"key": "unknown", "key_display_name": "unknown", "count": int(counts[0])})
        return sorted(groups, key=lambda g: (-g["count"], g["key"]))
