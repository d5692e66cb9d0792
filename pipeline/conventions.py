"""The counting conventions, in one place: every rule that chooses where the evidence runs out,
with its choices, its default, what each choice means, and how a value is checked.

- **Placement** (`PLACEMENT`): where a multinational named without a place counts.
  `hq`, at its headquarters (as Paper Copilot, OpenAlex and Scopus place it); `coauthors`,
  where its co-authors are when it runs a lab there (pipeline/countries/decision.py applies
  it). Headline numbers are stored under both; the stored paper countries, edges and yearly
  tables follow the run's.
- **China scope** (`CHINA_SCOPE`): which of Hong Kong, Macau and Taiwan fold into CN when
  papers are counted. The store keeps HK, MO and TW apart; `CHINA_SCOPES` maps each scope to
  the codes it folds, so the country group "CN" stands for under a scope is `CN` and those.
- **Lab readings** (`LAB_READING`): which lab countries of a multinational named without a
  place are admissible readings for a headline number's interval.
- **Confidence threshold** (`LOW_CONFIDENCE`): a row decided below it is low confidence.

The command line's options, the settings (pipeline/config.py), the `conventions` resource and
the reports all take choices, defaults and checks from here, so a value is refused with the
same words wherever it comes in.

No Dagster here, and no import of any stage: every layer may import this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class ConventionError(ValueError):
    """A value a convention does not know: one line naming it and the choices."""


@dataclass(frozen=True)
class Convention:
    """A named choice among fixed readings: its `choices` (the first listed is not implied to
    be the default; `default` says), and what each means (`meanings`, for help texts)."""

    name: str
    choices: tuple[str, ...]
    default: str
    meanings: Mapping[str, str]

    def check(self, value: str) -> str:
        """`value` when it is one of the choices, else a ConventionError. (A setting's value is
        checked against `choices` by pipeline/config.py, with the setting's name.)"""
        if value in self.choices:
            return value
        raise ConventionError(f"unknown {self.name} {value!r}: choose one of {', '.join(self.choices)}")

    def explained(self) -> str:
        """Each choice with its meaning, for a help text."""
        return "; ".join(f"{choice}: {self.meanings[choice]}" for choice in self.choices)


PLACEMENT = Convention(
    "placement", ("hq", "coauthors"), "hq",
    {"hq": "a multinational named without a place counts at its headquarters (as Paper Copilot, OpenAlex and "
           "Scopus)",
     "coauthors": "where its co-authors are, if it has a lab there"},
)
PLACEMENTS = PLACEMENT.choices
DEFAULT_PLACEMENT = PLACEMENT.default

# Each China scope and the codes it folds into CN.
CHINA_SCOPES: dict[str, dict[str, str]] = {
    "cn": {},
    "cn+hk+mo": {"HK": "CN", "MO": "CN"},
    "greater": {"HK": "CN", "MO": "CN", "TW": "CN"},
}
CHINA_SCOPE = Convention(
    "China scope", tuple(CHINA_SCOPES), "cn",
    {"cn": "mainland China only (default)", "cn+hk+mo": "fold in Hong Kong and Macau", "greater": "also Taiwan"},
)
DEFAULT_CHINA_SCOPE = CHINA_SCOPE.default

LAB_READING = Convention(
    "lab reading", ("anchored", "any"), "anchored",
    {"anchored": "a multinational's lab countries where another author of the paper is placed by evidence",
     "any": "every country where it runs a lab"},
)
LAB_READINGS = LAB_READING.choices

# A row decided below this confidence is low confidence (the review trail lists such papers).
LOW_CONFIDENCE = 0.85


def fold_countries(countries: Iterable[str], scope: str = DEFAULT_CHINA_SCOPE) -> set[str]:
    """The countries with Hong Kong, Macau and Taiwan folded into CN as the China scope says."""
    mapping = CHINA_SCOPES[CHINA_SCOPE.check(scope)]
    return {mapping.get(c, c) for c in countries}
