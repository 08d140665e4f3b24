"""What became of the releases a site announced, as `history summary` and the target page
report them: counted by outcome, with the median delay from the announced instant to the
slots seen, over the period asked; in French and English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from creneau.expected import Announcement, Outcome
from creneau.history.announced import AnnouncedOutcomes, announced_outcomes, in_period
from creneau.usecases.release_texts import announced_text

AT = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)  # a Monday 10:00 in Paris


def announcement(
    day: int, outcome: Outcome, seen_after: float | None = None, target: str = "cergy"
) -> Announcement:
    at = AT + timedelta(days=day)
    seen = at + timedelta(seconds=seen_after) if seen_after is not None else None
    return Announcement(target, at, None, at - timedelta(hours=3), at, outcome, seen)


FIVE = [
    announcement(0, "released", 20),
    announcement(1, "released", 23),
    announcement(2, "released", 40),
    announcement(3, "released", 12),
    announcement(4, "no_slots"),
    announcement(4, "released", 5, target="other"),
]


def test_announcements_are_counted_by_outcome_with_the_median_delay() -> None:
    found = announced_outcomes("cergy", FIVE)
    # The delays 12, 20, 23 and 40 s: their median is 21.5 s.
    assert found == AnnouncedOutcomes("cergy", 5, 4, 1, 0, 0, 0, 21.5)
    assert found.to_json() == {
        "announced": 5,
        "released": 4,
        "no_slots": 1,
        "withdrawn": 0,
        "changed": 0,
        "pending": 0,
        "seen_after_median_s": 21.5,
    }
    assert announced_outcomes("nowhere", FIVE) == AnnouncedOutcomes("nowhere")


def test_a_release_the_page_said_without_slots_seen_has_no_delay() -> None:
    said_only = [announcement(0, "released"), announcement(1, "withdrawn")]
    found = announced_outcomes("cergy", said_only)
    assert (found.released, found.withdrawn, found.seen_after_s) == (1, 1, None)


def test_only_the_announcements_seen_in_the_period_count() -> None:
    # Seen from 3 hours before each instant to the instant itself.
    since, until = AT + timedelta(days=1), AT + timedelta(days=3, hours=-4)
    kept = in_period(FIVE, since, until)
    assert [found.at for found in kept] == [AT + timedelta(days=day) for day in (1, 2)]


def test_the_words_in_french_and_english() -> None:
    found = AnnouncedOutcomes("cergy", 5, 4, 1, 0, 0, 0, 23.4)
    assert announced_text(found, "fr") == (
        "Annonces du site : 5 (4 suivies de créneaux, vus en médiane 23 s après l'heure "
        "annoncée ; 1 sans créneau ; 0 retirée)"
    )
    assert announced_text(found, "en") == (
        "Site announcements: 5 (4 followed by slots, seen a median 23 s after the announced "
        "time; 1 without slots; 0 withdrawn)"
    )
    moved = AnnouncedOutcomes("cergy", 4, 1, 0, 2, 0, 1)
    assert announced_text(moved, "fr") == (
        "Annonces du site : 4 (1 suivie de créneaux ; 0 sans créneau ; 2 retirées ; 1 à venir)"
    )
    assert announced_text(AnnouncedOutcomes("cergy", 2, changed=2), "en") == (
        "Site announcements: 2 (0 followed by slots; 0 without slots; 0 withdrawn; 2 moved)"
    )
