"""The slot diff: new, still open, back again, gone — and only where the page settled it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from creneau.changes import KnownSlot, diff_slots
from creneau.results import CheckResult, GuichetResult, Slot, Status

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def slot(guichet: str, minutes: int) -> Slot:
    start = T0 + timedelta(minutes=minutes)
    return Slot(start, guichet, f"Guichet {guichet}", str(int(start.timestamp())))


def result(*guichets: tuple[str, Status, list[Slot]]) -> CheckResult:
    return CheckResult(
        target="t",
        system="ezbooking",
        url="https://example.org/booking/create/1",
        status=Status.AVAILABLE,
        checked_at=T0,
        guichets=tuple(GuichetResult(g, g, status, tuple(slots)) for g, status, slots in guichets),
    )


def known(row_id: int, s: Slot, gone: bool = False) -> KnownSlot:
    return KnownSlot(
        row_id,
        s.guichet_id,
        s.start,
        T0 - timedelta(hours=1),
        T0 - timedelta(minutes=5) if gone else None,
    )


def test_first_sighting_is_new() -> None:
    a, b = slot("1", 0), slot("1", 15)
    changes = diff_slots([], result(("1", Status.AVAILABLE, [a, b])))
    assert (changes.new, changes.appeared, changes.gone) == ([a, b], [a, b], [])


def test_a_slot_still_there_is_not_new() -> None:
    a, b = slot("1", 0), slot("1", 15)
    changes = diff_slots([known(7, a)], result(("1", Status.AVAILABLE, [a, b])))
    assert (changes.new, changes.still_open, changes.appeared) == ([b], [7], [b])


def test_a_slot_no_longer_shown_is_gone_when_the_page_settled_it() -> None:
    a = slot("1", 0)
    changes = diff_slots([known(7, a)], result(("1", Status.NONE, [])))
    assert [k.id for k in changes.gone] == [7]


def test_a_failed_or_unknown_guichet_forgets_nothing() -> None:
    a, b = slot("1", 0), slot("2", 0)
    changes = diff_slots(
        [known(7, a), known(8, b)], result(("1", Status.OVERLOADED, []), ("2", Status.UNKNOWN, []))
    )
    assert (changes.gone, changes.new) == ([], [])


def test_a_slot_that_comes_back_after_a_while_is_announced_again() -> None:
    a = slot("1", 0)
    gone_long_ago = KnownSlot(7, "1", a.start, T0 - timedelta(hours=2), T0 - timedelta(hours=1))
    changes = diff_slots([gone_long_ago], result(("1", Status.AVAILABLE, [a])))
    assert (changes.new, changes.returned, changes.appeared) == ([], [a], [a])


def test_only_the_latest_appearance_of_a_slot_counts() -> None:
    a = slot("1", 0)
    first = KnownSlot(7, "1", a.start, T0 - timedelta(hours=3), T0 - timedelta(hours=2))
    latest = KnownSlot(9, "1", a.start, T0 - timedelta(minutes=30), None)
    for known_ in ([first, latest], [latest, first]):
        changes = diff_slots(known_, result(("1", Status.NONE, [])))
        assert [k.id for k in changes.gone] == [9]


def test_a_slot_that_blinks_out_and_back_within_the_hysteresis_is_not_new() -> None:
    a = slot("1", 0)
    changes = diff_slots(
        [known(7, a, gone=True)],
        result(("1", Status.AVAILABLE, [a])),
        hysteresis=timedelta(minutes=10),
    )
    assert (changes.reopened, changes.appeared) == ([7], [])


def test_a_slot_listed_twice_on_a_page_counts_once() -> None:
    a = slot("1", 0)
    changes = diff_slots([], result(("1", Status.AVAILABLE, [a, a])))
    assert changes.new == [a]


slots_strategy = st.lists(
    st.builds(slot, st.sampled_from(["1", "2", "3"]), st.integers(0, 40)), max_size=20
)


@given(before=slots_strategy, now=slots_strategy, failed=st.sets(st.sampled_from(["1", "2", "3"])))
def test_every_slot_seen_is_accounted_for_once_and_only_settled_guichets_lose_slots(
    before: list[Slot], now: list[Slot], failed: set[str]
) -> None:
    earlier = {(s.guichet_id, s.start): known(i, s) for i, s in enumerate(before)}
    guichets = []
    for g in ("1", "2", "3"):
        seen = [s for s in now if s.guichet_id == g and g not in failed]
        status = Status.ERROR if g in failed else Status.AVAILABLE if seen else Status.NONE
        guichets.append((g, status, seen))
    check = result(*guichets)
    changes = diff_slots(list(earlier.values()), check)
    seen = {(s.guichet_id, s.start) for s in check.slots}
    assert {(s.guichet_id, s.start) for s in changes.new} == seen - set(earlier)
    assert len(changes.new) + len(changes.still_open) + len(changes.returned) == len(seen)
    gone_keys = {(k.guichet_id, k.start) for k in changes.gone}
    assert gone_keys == {key for key in set(earlier) - seen if key[0] not in failed}


def test_a_page_that_says_no_slot_settles_guichets_it_no_longer_names() -> None:
    a = slot("guichet-2", 0)
    page_wide_none = CheckResult(
        target="t",
        system="html",
        url="https://example.org/rdv",
        status=Status.NONE,
        checked_at=T0,
        guichets=(GuichetResult("page", "page", Status.NONE),),
    )
    assert [k.id for k in diff_slots([known(7, a)], page_wide_none).gone] == [7]


def test_available_without_any_listed_slot_forgets_nothing() -> None:
    a = slot("1", 0)
    changes = diff_slots([known(7, a)], result(("1", Status.AVAILABLE, [])))
    assert changes.gone == []


def test_a_complete_answer_settles_guichets_it_no_longer_lists() -> None:
    a, b = slot("1", 0), slot("2", 0)
    check = CheckResult(
        target="t",
        system="ants",
        url="https://example.org/api",
        status=Status.AVAILABLE,
        checked_at=T0,
        guichets=(GuichetResult("2", "2", Status.AVAILABLE, (b,)),),
        complete=True,
    )
    assert [k.id for k in diff_slots([known(7, a), known(8, b)], check).gone] == [7]


def test_a_slot_beyond_what_the_check_read_is_not_gone() -> None:
    near, other, far = slot("1", 0), slot("1", 15), slot("1", 60 * 24 * 30)
    answer = CheckResult(
        target="t",
        system="ezbooking",
        url="https://example.org/booking/create/1",
        status=Status.AVAILABLE,
        checked_at=T0,
        guichets=(
            GuichetResult("1", "1", Status.AVAILABLE, (other,), read_until=T0 + timedelta(days=14)),
        ),
    )
    changes = diff_slots([known(1, near), known(2, far)], answer)
    assert [gone.id for gone in changes.gone] == [1]
