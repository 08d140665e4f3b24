"""The public decisions an evidence dossier cites, with where each can be read. Facts and
references only: what each decision held, in its own terms, never advice on a case.

UNVERIFIED: each entry below is copied from the issue and awaits its check against a public
source (`source` stays "" until then)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Decision:
    court: str  # "Conseil d'État", "Conseil d'État, Section", "Tribunal administratif de Paris"
    decided: date
    number: str  # "n° 435594"
    held_fr: str  # what the decision held that bears on such a record, in French
    held_en: str
    source: str  # a public page where the decision can be read

    @property
    def citation(self) -> str:
        """'CE, 10 juin 2020, n° 435594' (the French way of citing it)."""
        raise NotImplementedError  # written with the verified list


DECISIONS: tuple[Decision, ...] = ()
