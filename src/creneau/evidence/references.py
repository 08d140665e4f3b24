"""The public decisions an evidence dossier cites, with where each can be read. Facts and
references only: what each decision held, in its own terms, never advice on a case.

Each entry was checked against the public page named in `source` (docs/references.md says what
each page shows, and what could not be confirmed). The quotations are the decisions' words as
those pages reproduce them. The order is the order a reader needs them: the one-week record
the Conseil d'État rejected, the records the tribunals accepted, then the two decisions on
online booking itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from creneau.dates import FRENCH_MONTHS


@dataclass(frozen=True)
class Decision:
    court: str  # "Conseil d'État", "Tribunal administratif de Paris"
    cited_as: str  # how the citation names the court and formation: "CE", "CE, Section"
    decided: date
    number: str  # "n° 435594"
    held_fr: str  # what the decision held that bears on such a record, in French
    held_en: str
    source: str  # a public page where the decision, or its words, can be read

    @property
    def citation(self) -> str:
        """'CE, 10 juin 2020, n° 435594' (the French way of citing it)."""
        return f"{self.cited_as}, {french_date(self.decided)}, {self.number}"


def french_date(day: date) -> str:
    """'10 juin 2020', '1er juin 2020'."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {FRENCH_MONTHS[day.month - 1]} {day.year}"


ONE_WEEK_REJECTED = Decision(
    court="Conseil d'État",
    cited_as="CE",
    decided=date(2020, 6, 10),
    number="n° 435594",
    held_fr=(
        "Si l'étranger établit qu'il n'a pu obtenir une date de rendez-vous « malgré plusieurs "
        "tentatives n'ayant pas été effectuées la même semaine », il peut demander au juge des "
        "référés (article L. 521-3 du code de justice administrative) d'enjoindre au préfet de "
        "lui communiquer une date de rendez-vous. La demande a été rejetée : le requérant « ne "
        "justifiait que de quatre captures d'écran, d'un courrier recommandé et d'un courriel », "
        "datés du 13 au 18 septembre 2019."
    ),
    held_en=(
        'A foreigner who shows that no appointment date could be obtained "despite several '
        'attempts not all made in the same week" may ask the judge of the "référé mesures '
        'utiles" (article L. 521-3 of the code of administrative justice) to order the prefect '
        "to give one. The request was rejected: it rested only on four screenshots, a "
        "registered letter and an e-mail, dated 13 to 18 September 2019."
    ),
    source="https://ash.tm.fr/hebdo/3165/actualites-juridiques/les-rendez-vous-en-prefecture-554074.php",
)

# One commentary reports both orders together, and does not say which record was whose.
GRANTED_SOURCE = (
    "https://www.alwihdainfo.com/"
    "Dematerialisation-des-procedures-le-juge-enjoint-a-la-Prefecture-de-delivrer-un-rendez-vous"
    "_a96369.html"
)
GRANTED_FR = (
    "Le juge des référés, reprenant la condition de « plusieurs tentatives n'ayant pas été "
    "effectuées la même semaine », a enjoint à la préfecture de délivrer un rendez-vous. "
    "Selon le commentaire publié de ces deux ordonnances, les requérants avaient demandé un "
    "rendez-vous à la préfecture par courriel et produit des captures d'écran attestant "
    "l'absence de créneau disponible sur une durée d'au moins trois semaines."
)
GRANTED_EN = (
    'The judge, restating the condition of "several attempts not all made in the same week", '
    "ordered the préfecture to give an appointment. According to the published commentary "
    "on both orders, the applicants had asked the préfecture for one by e-mail and produced "
    "screenshots showing no slot available over at least three weeks."
)

DECISIONS: tuple[Decision, ...] = (
    ONE_WEEK_REJECTED,
    Decision(
        court="Tribunal administratif de Cergy-Pontoise",
        cited_as="TA Cergy-Pontoise, ord.",
        decided=date(2020, 11, 2),
        number="n° 2010725",
        held_fr=GRANTED_FR,
        held_en=GRANTED_EN,
        source=GRANTED_SOURCE,
    ),
    Decision(
        court="Tribunal administratif de Paris",
        cited_as="TA Paris, ord.",
        decided=date(2020, 11, 3),
        number="n° 2016798/9",  # one case: "/9" is the Paris tribunal's chamber
        held_fr=GRANTED_FR,
        held_en=GRANTED_EN,
        source=GRANTED_SOURCE,
    ),
    Decision(
        court="Conseil d'État",
        cited_as="CE",
        decided=date(2019, 11, 27),
        number="n° 422516",
        held_fr=(
            "Le décret du 27 mai 2016, qui autorise les téléservices de l'État, « n'a pas pour "
            "objet et ne saurait avoir légalement pour effet de rendre obligatoire la saisine "
            "de l'administration par voie électronique »."
        ),
        held_en=(
            "The decree of 27 May 2016, which allows the State's online services, neither aims "
            "to nor can lawfully make it mandatory to approach the administration online."
        ),
        source="https://www.infomie.net/spip.php?article5361&lang=fr",
    ),
    Decision(
        court="Conseil d'État, Section du contentieux",
        cited_as="CE, Section",
        decided=date(2022, 6, 3),
        number="n° 452798",
        held_fr=(
            "Lorsqu'il impose le recours à un téléservice pour l'obtention de certains titres "
            "de séjour, le pouvoir réglementaire doit prévoir un accompagnement des personnes "
            "qui n'ont pas accès aux outils numériques ou rencontrent des difficultés, et "
            "« garantir la possibilité de recourir à une solution de substitution » pour celles "
            "qui ne peuvent utiliser le téléservice malgré cet accompagnement."
        ),
        held_en=(
            "Where the government makes an online service mandatory for some residence "
            "permits, it must provide help to people without access to digital tools or who "
            'struggle with them, and "guarantee the possibility of a substitute solution" for '
            "those who still cannot use the service."
        ),
        source="http://www.conseil-etat.fr/fr/arianeweb/CE/decision/2022-06-03/452798",
    ),
)
