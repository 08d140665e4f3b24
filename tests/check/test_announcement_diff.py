"""What one check says of the release a site announced (changes.follow_announcement): new,
seen again, changed, withdrawn, released, passed without slots; a blocked check says
nothing; the page that says "Dernière mise en ligne … T" after T is a release, not a
withdrawal. Pure: instants are fixed, never today."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.changes import AnnouncementChange, follow_announcement
from creneau.expected import FOLLOWED_FOR, Announcement
from creneau.results import CheckResult, ReleaseAnnouncement, Status

T = datetime(2025, 12, 9, 9, 0, tzinfo=UTC)  # mardi 9 décembre 2025, 10:00 à Paris
WEEK = date(2025, 12, 15)
MINUTE = timedelta(minutes=1)


def check(
    at: datetime,
    next_at: datetime | None = None,
    *,
    last_at: datetime | None = None,
    status: Status = Status.NONE,
) -> CheckResult:
    releases = (
        ReleaseAnnouncement(last_at=last_at, next_at=next_at, next_week=WEEK if next_at else None)
        if next_at or last_at
        else None
    )
    url = "https://pref.example/rdv"
    return CheckResult("prefecture", "rdvpref", url, status, at, releases=releases)


def pending(first_seen: datetime = T - timedelta(hours=2), at: datetime = T) -> Announcement:
    return Announcement("prefecture", at, WEEK, first_seen, first_seen)


def test_a_first_announcement_is_new() -> None:
    seen = T - timedelta(hours=1)
    change = follow_announcement(None, check(seen, T), new_slots=False)
    assert change == AnnouncementChange(started=Announcement("prefecture", T, WEEK, seen, seen))


def test_the_same_announcement_seen_again_moves_last_seen_only() -> None:
    now = T - 10 * MINUTE
    change = follow_announcement(pending(), check(now, T), new_slots=False)
    assert change == AnnouncementChange(replace(pending(), last_seen=now))


def test_a_page_that_does_not_say_the_week_again_keeps_it() -> None:
    now = T - 10 * MINUTE
    without_week = replace(check(now, T), releases=ReleaseAnnouncement(next_at=T))
    change = follow_announcement(pending(), without_week, new_slots=False)
    assert change.previous == replace(pending(), last_seen=now)


def test_another_instant_before_t_is_a_change_and_a_new_announcement() -> None:
    now, later = T - 10 * MINUTE, T + timedelta(days=1)
    change = follow_announcement(pending(), check(now, later), new_slots=False)
    assert change.ended == "changed"
    assert change.previous == replace(pending(), outcome="changed")
    assert change.started == Announcement("prefecture", later, WEEK, now, now)


def test_a_clear_page_without_the_announcement_before_t_withdraws_it() -> None:
    now = T - 10 * MINUTE
    for status in (Status.NONE, Status.AVAILABLE):
        change = follow_announcement(pending(), check(now, status=status), new_slots=False)
        assert (change.ended, change.previous, change.started) == (
            "withdrawn",
            replace(pending(), outcome="withdrawn"),
            None,
        )


def test_a_blocked_or_failed_check_says_nothing_before_t() -> None:
    for status in (Status.BLOCKED, Status.ERROR, Status.CAPTCHA, Status.UNKNOWN):
        now = T - 10 * MINUTE
        assert follow_announcement(pending(), check(now, status=status), False) == (
            AnnouncementChange()
        )
        assert follow_announcement(pending(), check(now, T + MINUTE, status=status), False) == (
            AnnouncementChange()
        )


def test_after_t_the_last_release_at_t_is_a_release_not_a_withdrawal() -> None:
    published = check(T + 30 * timedelta(seconds=1), last_at=T)
    change = follow_announcement(pending(), published, new_slots=False)
    assert change == AnnouncementChange(replace(pending(), outcome="released"), "released")
    seen = T + 40 * timedelta(seconds=1)
    change = follow_announcement(pending(), check(seen, last_at=T, status=Status.AVAILABLE), True)
    assert change.ended == "released"
    assert change.previous == replace(pending(), outcome="released", released_seen_at=seen)


def test_slots_while_the_page_still_announces_t_are_the_release() -> None:
    seen = T + 20 * timedelta(seconds=1)
    change = follow_announcement(pending(), check(seen, T, status=Status.AVAILABLE), True)
    assert change.previous == replace(
        pending(), last_seen=seen, outcome="released", released_seen_at=seen
    )
    assert change.started is None


def test_slots_before_t_are_no_release_of_it() -> None:
    change = follow_announcement(pending(), check(T - MINUTE, T, status=Status.AVAILABLE), True)
    assert change.ended is None


def test_past_the_followed_time_without_slots_it_passed_without_slots() -> None:
    late = T + FOLLOWED_FOR + MINUTE
    change = follow_announcement(pending(), check(late, status=Status.BLOCKED), False)
    assert change.previous == replace(pending(), outcome="no_slots")
    assert follow_announcement(
        pending(), check(T + FOLLOWED_FOR, status=Status.BLOCKED), False
    ) == (AnnouncementChange())


def test_a_release_then_the_next_announcement_in_one_check() -> None:
    seen, following = T + 30 * timedelta(seconds=1), T + timedelta(days=7)
    change = follow_announcement(pending(), check(seen, following, status=Status.AVAILABLE), True)
    assert change.ended == "released"
    assert change.started == Announcement("prefecture", following, WEEK, seen, seen)
    assert [row.at for row in change.saved] == [T, following]


def test_an_ended_announcement_still_shown_is_seen_again_not_new() -> None:
    released = replace(pending(), outcome="released", released_seen_at=T + MINUTE)
    now = T + 3 * MINUTE
    change = follow_announcement(released, check(now, T), new_slots=False)
    assert change == AnnouncementChange(replace(released, last_seen=now))


def test_a_withdrawn_announcement_announced_again_starts_anew() -> None:
    withdrawn = replace(pending(), outcome="withdrawn")
    now = T - 5 * MINUTE
    change = follow_announcement(withdrawn, check(now, T), new_slots=False)
    assert change.started == Announcement("prefecture", T, WEEK, now, now)


statuses = st.sampled_from(list(Status))
offsets = st.integers(min_value=-3 * 3600, max_value=3 * 3600).map(lambda s: timedelta(seconds=s))


@settings(deadline=None)  # pure, but the machine may be busy
@given(offsets, statuses, st.booleans(), st.sampled_from(["none", "same", "other", "last"]))
def test_a_pending_announcement_ends_only_as_the_rules_say(
    offset: timedelta, status: Status, new_slots: bool, page: str
) -> None:
    now = T + offset
    next_at = {"none": None, "same": T, "other": T + timedelta(days=2), "last": None}[page]
    result = check(now, next_at, last_at=T if page == "last" else None, status=status)
    change = follow_announcement(pending(now - timedelta(hours=4)), result, new_slots)
    clear = status in (Status.AVAILABLE, Status.NONE)
    if change.ended == "withdrawn":
        assert clear
        assert now < T
        assert page == "none"
    if change.ended == "released":
        assert (new_slots and now >= T) or page == "last"
        assert now <= T + FOLLOWED_FOR
    if change.ended == "changed":
        assert clear
        assert now < T
        assert page == "other"
    if change.ended == "no_slots":
        assert now > T + FOLLOWED_FOR or (now >= T and clear and page == "other")
    if not clear and now <= T + FOLLOWED_FOR and not (new_slots and now >= T) and page != "last":
        assert change == AnnouncementChange()  # a check without a clear answer says nothing
    if change.started is not None:
        assert change.started.at == next_at
        assert change.started.outcome == "pending"
    assert len({row.at for row in change.saved}) == len(change.saved)  # one row per instant


# --- the site's own sentence: the latest one seen for the instant ---------------------------

SAID = "Prochaine mise en ligne de nouveaux rendez-vous : le 09/12/2025 à 10:00"


def said(result: CheckResult, sentence: str) -> CheckResult:
    assert result.releases is not None
    return replace(result, releases=replace(result.releases, next_said=sentence))


def test_a_new_announcement_keeps_the_site_s_sentence() -> None:
    seen = T - timedelta(hours=1)
    change = follow_announcement(None, said(check(seen, T), SAID), new_slots=False)
    assert change.started == Announcement("prefecture", T, WEEK, seen, seen, said=SAID)


def test_a_page_without_words_keeps_the_sentence_and_new_words_replace_it() -> None:
    now, known = T - 10 * MINUTE, replace(pending(), said=SAID)
    change = follow_announcement(known, check(now, T), new_slots=False)
    assert change.previous == replace(known, last_seen=now)
    reworded = SAID.upper()
    change = follow_announcement(known, said(check(now, T), reworded), new_slots=False)
    assert change.previous == replace(known, last_seen=now, said=reworded)


def test_a_changed_instant_starts_with_its_own_words_not_the_old_ones() -> None:
    now, later = T - 10 * MINUTE, T + timedelta(days=1)
    new_words = SAID.replace("09/12/2025", "10/12/2025")
    known = replace(pending(), said=SAID)
    change = follow_announcement(known, said(check(now, later), new_words), new_slots=False)
    assert change.previous == replace(known, outcome="changed")
    assert change.started == Announcement("prefecture", later, WEEK, now, now, said=new_words)


def test_a_released_announcement_seen_again_keeps_its_words() -> None:
    now = T + 2 * MINUTE
    released = replace(pending(), outcome="released", said=SAID)
    change = follow_announcement(released, check(now, T), new_slots=False)
    assert change == AnnouncementChange(replace(released, last_seen=now))
