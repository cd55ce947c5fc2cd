"""Competence, leave, overlapping shifts and uncovered needs."""

from flows.schemalaggning.rules import check

from .helpers import breaches, person, roster, shift

MED = "delegated_medication"
STAFF = [
    person("anna", competences=[MED]),
    person("bo"),
    person("cia", roles=["ssk"]),
]


def data(shifts, needs, **extra):
    return roster(shifts, staff=STAFF, needs=needs, period=("2026-12-07", "2026-12-13"), **extra)


MORNING_MED = {"id": "med", "date": "2026-12-07", "shift": "morning", "count": 1,
               "roles": ["usk"], "competences": [MED]}  # fmt: skip
MORNING_ANY = {"id": "any", "date": "2026-12-07", "shift": "morning", "count": 1}
MORNING = ("2026-12-07T07:00", "2026-12-07T15:30")


def test_a_person_without_the_competence_on_a_need_that_asks_for_it_is_a_breach():
    """Bo, without delegated medication, planned on the medication need: a competence breach,
    and the need stays uncovered."""
    result = check(data([shift(*MORNING, staff="bo", need="med")], [MORNING_MED]))
    assert [(b["staff"], b["rule"]) for b in result["breaches"] if b["rule"] == "competence"] == [
        ("bo", "competence")
    ]
    assert [(u["need"], u["missing"]) for u in result["uncovered"]] == [("med", 1)]


def test_a_qualified_person_covers_the_need():
    """Anna covers the medication need; nothing is uncovered."""
    result = check(data([shift(*MORNING, staff="anna", need="med")], [MORNING_MED]))
    assert result["uncovered"] == []
    assert [b for b in result["breaches"] if b["rule"] == "competence"] == []


def test_the_role_is_one_of_the_alternatives():
    """A nurse (ssk) does not cover a need for an undersköterska; no breach without a need id."""
    result = check(data([shift(*MORNING, staff="cia")], [MORNING_MED]))
    assert [u["need"] for u in result["uncovered"]] == ["med"]
    assert [b for b in result["breaches"] if b["rule"] == "competence"] == []


def test_unlabelled_shifts_are_matched_so_that_order_does_not_matter():
    """Anna and Bo without need ids: Anna takes the medication need, Bo the other, whichever
    shift comes first in the file."""
    for order in (("anna", "bo"), ("bo", "anna")):
        shifts = [shift(*MORNING, staff=who) for who in order]
        assert check(data(shifts, [MORNING_ANY, MORNING_MED]))["uncovered"] == []


def test_a_shift_must_span_the_need_to_cover_it():
    """A shift 08:00–15:30 does not cover the 07:00–15:30 need."""
    result = check(data([shift("2026-12-07T08:00", "2026-12-07T15:30", staff="anna")],
                        [MORNING_MED]))  # fmt: skip
    assert [u["missing"] for u in result["uncovered"]] == [1]


def test_a_need_for_three_counts_what_is_missing():
    """Two people on a need for three: one missing."""
    need = dict(MORNING_ANY, count=3)
    result = check(data([shift(*MORNING, staff="anna"), shift(*MORNING, staff="bo")], [need]))
    assert [(u["covered"], u["missing"]) for u in result["uncovered"]] == [(2, 1)]


LEAVE = [{"staff": "anna", "start": "2026-12-08", "end": "2026-12-09", "kind": "semester"}]


def test_a_shift_on_a_leave_day_is_a_breach_and_covers_nothing():
    """Anna planned on her first leave day: a leave breach, the need stays uncovered."""
    need = dict(MORNING_MED, date="2026-12-08")
    result = check(data([shift("2026-12-08T07:00", "2026-12-08T15:30", staff="anna")], [need],
                        leave=LEAVE))  # fmt: skip
    leave = [b for b in result["breaches"] if b["rule"] == "leave"]
    assert [(b["staff"], b["start"], b["end"]) for b in leave] == [
        ("anna", "2026-12-08T07:00", "2026-12-08T15:30")
    ]
    assert "semester" in leave[0]["detail"]
    assert [u["missing"] for u in result["uncovered"]] == [1]


def test_a_night_running_into_leave_is_a_breach_from_midnight():
    """A night 21:45 on the day before leave to 07:15: a breach from 00:00 to 07:15."""
    found = breaches(data([shift("2026-12-07T21:45", "2026-12-08T07:15", staff="anna")], [],
                          leave=LEAVE), "leave")  # fmt: skip
    assert [(b["start"], b["end"]) for b in found] == [("2026-12-08T00:00", "2026-12-08T07:15")]


def test_the_day_after_leave_is_free_to_plan():
    """Leave ends on the 9th inclusive: a shift on the 10th is no breach."""
    assert breaches(data([shift("2026-12-10T07:00", "2026-12-10T15:30", staff="anna")], [],
                         leave=LEAVE), "leave") == []  # fmt: skip


def test_two_shifts_of_one_person_at_once_overlap():
    """Morning 07–15:30 and evening 14–22 on the same day overlap from 14:00 to 15:30."""
    found = breaches(data([shift(*MORNING, staff="bo"),
                           shift("2026-12-07T14:00", "2026-12-07T22:00", staff="bo")], []),
                     "overlap")  # fmt: skip
    assert [(b["start"], b["end"]) for b in found] == [("2026-12-07T14:00", "2026-12-07T15:30")]


def test_back_to_back_shifts_do_not_overlap():
    """A shift ending 15:30 and one starting 15:30 touch but do not overlap."""
    assert breaches(data([shift(*MORNING, staff="bo"),
                          shift("2026-12-07T15:30", "2026-12-07T18:00", staff="bo")], []),
                    "overlap") == []  # fmt: skip
