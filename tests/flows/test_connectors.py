"""The register connector interface and the file-backed synthetic register."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from flows.connectors import get_connector
from flows.connectors.base import (
    KNOWN_INCOME_TYPES,
    POPULATION_REGISTER,
    SOURCE_INCOME_TYPES,
    HouseholdMember,
    IncomeRecord,
    PersonNotFound,
    RegisterConnector,
    RegisterUnavailable,
    UnknownSource,
)
from flows.connectors.file_register import UNAVAILABLE_SOURCES_ENV, FileRegister

ROOT = Path(__file__).resolve().parents[2]
REGISTER_DIR = ROOT / "data" / "register"
DEMO_DIR = ROOT / "data" / "demo_applications"

SARA = "199107012388"  # H01 single adult
JOHAN, MARIA = "198805192393", "199009012387"  # H02 married couple
ELSA, IVAR, SAGA = "200906082383", "202210022394", "202510142389"  # H02 children 16, 3, 0
ERIK, JONAS = "199302012399", "199508022390"  # H04 shared household
AHMED = "198407319295"  # H05 large family
TOMASZ = "197807842393"  # H06 samordningsnummer
ALVA = "199909012388"  # H07 CSN does not answer
JENNY, LEO, MARCUS = "198711092380", "201605022399", "198606129990"  # H08 extra adult
GORAN = "195805133138"  # H09 foreign pension
PETER = "198208149297"  # H10 sickness benefit stops, salary starts
DANIEL, SOFIA, NORA = "199210012390", "199304012389", "202306022381"  # H12 sambo


def luhn_check_digit(nine_digits: str) -> int:
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def birth_date(personnummer: str) -> datetime.date:
    year, month, day = int(personnummer[:4]), int(personnummer[4:6]), int(personnummer[6:8])
    if day > 60:  # samordningsnummer
        day -= 60
    return datetime.date(year, month, day)


def age_on(personnummer: str, day: datetime.date) -> int:
    born = birth_date(personnummer)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def load(name: str) -> dict:
    return json.loads((REGISTER_DIR / name).read_text(encoding="utf-8"))


def all_numbers() -> list[str]:
    numbers = [p["personnummer"] for p in load("people.json")["people"]]
    for person in load("people.json")["people"]:
        numbers += [n for n in [person.get("partner")] if n] + person.get("guardians", [])
    numbers += list(load("incomes.json")["incomes"])
    for listed in load("availability.json")["unavailable"].values():
        numbers += listed
    for path in DEMO_DIR.glob("*.json"):
        application = json.loads(path.read_text(encoding="utf-8"))
        people = [application["applicant"], application["co_applicant"]]
        people += application["children"] + application.get("other_adults", [])
        numbers += [p["personnummer"] for p in people if p]
    return numbers


@pytest.fixture
def register(monkeypatch) -> FileRegister:
    monkeypatch.delenv(UNAVAILABLE_SOURCES_ENV, raising=False)
    return FileRegister(data_dir=REGISTER_DIR)


def amounts(answer) -> dict[str, int]:
    return {record.income_type: record.amount for record in answer.records}


# The synthetic data


@pytest.mark.parametrize("personnummer", sorted(set(all_numbers())))
def test_every_identity_number_has_a_valid_check_digit_and_real_date(personnummer):
    """Every number in the register and demo files is 12 digits, a real date, Luhn-valid."""
    assert len(personnummer) == 12 and personnummer.isdigit()
    assert "001" <= personnummer[8:11] <= "999"
    birth_date(personnummer)  # raises ValueError for an impossible date
    assert int(personnummer[-1]) == luhn_check_digit(personnummer[2:11])


def test_every_referenced_person_is_in_the_population_data():
    """Partners, guardians, incomes, availability and demo applications name known people."""
    known = {p["personnummer"] for p in load("people.json")["people"]}
    assert set(all_numbers()) <= known


def test_people_are_listed_once():
    """No personnummer appears twice in people.json."""
    numbers = [p["personnummer"] for p in load("people.json")["people"]]
    assert len(numbers) == len(set(numbers))


def test_incomes_use_months_in_range_and_whole_kronor():
    """Every amount is an int for a month between 2025-09 and 2026-12 from a known source."""
    for by_source in load("incomes.json")["incomes"].values():
        for source, by_type in by_source.items():
            assert source in SOURCE_INCOME_TYPES
            for by_month in by_type.values():
                for month, amount in by_month.items():
                    assert "2025-09" <= month <= "2026-12"
                    assert isinstance(amount, int) and amount >= 0


def test_household_with_children_aged_0_3_and_16_in_march_2026():
    """The Berg family has the 0-, 3- and 16-year-old the norm table needs."""
    day = datetime.date(2026, 3, 15)
    assert [age_on(n, day) for n in (SAGA, IVAR, ELSA)] == [0, 3, 16]


def test_large_family_has_at_least_eight_people(register):
    """H05 is a household of at least 8 registered people."""
    assert len(register.population_household(personnummer=AHMED)) >= 8


def test_coordination_number_has_day_plus_60():
    """Tomasz Nowak has a samordningsnummer (day 61–91)."""
    assert 61 <= int(TOMASZ[6:8]) <= 91


# fetch_source


def test_file_register_satisfies_the_protocol(register):
    """FileRegister is a RegisterConnector."""
    assert isinstance(register, RegisterConnector)


def test_sources_are_the_income_sources(register):
    """sources() lists exactly the sources of SOURCE_INCOME_TYPES."""
    assert sorted(register.sources()) == sorted(SOURCE_INCOME_TYPES)


def test_income_types_are_the_application_keys():
    """The sources report the eleven income keys of the application, each from one source."""
    all_types = [t for types in SOURCE_INCOME_TYPES.values() for t in types]
    assert len(all_types) == len(set(all_types)) == len(KNOWN_INCOME_TYPES) == 11


def test_fetch_gives_the_amount_for_the_month(register):
    """Sara's housing allowance is 2 400 in January 2026 and 1 850 in February."""
    january = register.fetch_source(source="forsakringskassan", personnummer=SARA, month="2026-01")
    february = register.fetch_source(source="forsakringskassan", personnummer=SARA, month="2026-02")
    assert amounts(january)["housing_allowance"] == 2400
    assert amounts(february)["housing_allowance"] == 1850


def test_fetch_returns_income_records_for_the_source_and_month(register):
    """Each record carries the source, income type, amount and month asked for."""
    answer = register.fetch_source(source="forsakringskassan", personnummer=SARA, month="2026-02")
    assert answer.answered and answer.source == "forsakringskassan" and answer.month == "2026-02"
    assert answer.personnummer == SARA
    assert set(answer.records) == {
        IncomeRecord("forsakringskassan", "activity_support", 6200, "2026-02"),
        IncomeRecord("forsakringskassan", "housing_allowance", 1850, "2026-02"),
    }


def test_fetch_accepts_a_hyphenated_number(register):
    """ "YYYYMMDD-NNNC" finds the same person as "YYYYMMDDNNNC"."""
    answer = register.fetch_source(
        source="skatteverket", personnummer=f"{ELSA[:8]}-{ELSA[8:]}", month="2026-02"
    )
    assert amounts(answer) == {"salary_net": 1540}


def test_child_has_own_work_income_and_studiebidrag(register):
    """Elsa, 16, has a salary from Skatteverket and studiebidrag from CSN in February."""
    salary = register.fetch_source(source="skatteverket", personnummer=ELSA, month="2026-02")
    csn = register.fetch_source(source="csn", personnummer=ELSA, month="2026-02")
    assert amounts(salary) == {"salary_net": 1540}
    assert amounts(csn) == {"student_aid": 1250}


def test_student_aid_is_paid_per_semester(register):
    """Studiebidrag is paid September–June: none in July 2026."""
    july = register.fetch_source(source="csn", personnummer=ELSA, month="2026-07")
    assert july.answered and july.records == ()


def test_month_without_payment_is_an_empty_answer(register):
    """Peter's sickness benefit stopped after December: February answers with no record."""
    answer = register.fetch_source(source="forsakringskassan", personnummer=PETER, month="2026-02")
    assert answer.answered
    assert "sickness_benefit" not in amounts(answer)


def test_salary_that_starts_appears_from_its_first_month(register):
    """Peter has no salary in January 2026 and 12 800 in February."""
    january = register.fetch_source(source="skatteverket", personnummer=PETER, month="2026-01")
    february = register.fetch_source(source="skatteverket", personnummer=PETER, month="2026-02")
    assert amounts(january) == {}
    assert amounts(february) == {"salary_net": 12800}


def test_unknown_income_type_is_passed_through(register):
    """Göran's foreign pension is returned as reported, next to his pension."""
    answer = register.fetch_source(
        source="pensionsmyndigheten", personnummer=GORAN, month="2026-02"
    )
    assert amounts(answer) == {"pension": 11480, "foreign_pension": 1315}
    assert "foreign_pension" not in KNOWN_INCOME_TYPES


def test_unavailable_person_source_raises(register):
    """CSN does not answer for Alva (availability.json): RegisterUnavailable("csn")."""
    with pytest.raises(RegisterUnavailable) as excinfo:
        register.fetch_source(source="csn", personnummer=ALVA, month="2026-02")
    assert excinfo.value.source == "csn"


def test_other_sources_answer_for_the_person_csn_fails_for(register):
    """Only CSN is down for Alva; Skatteverket still answers."""
    answer = register.fetch_source(source="skatteverket", personnummer=ALVA, month="2026-02")
    assert amounts(answer) == {"salary_net": 3350}


def test_constructor_makes_a_whole_source_unavailable():
    """unavailable_sources=["akassa"] makes the a-kassa fail for everyone."""
    register = FileRegister(data_dir=REGISTER_DIR, unavailable_sources=["akassa"])
    with pytest.raises(RegisterUnavailable) as excinfo:
        register.fetch_source(source="akassa", personnummer=ERIK, month="2026-02")
    assert excinfo.value.source == "akassa"


def test_environment_makes_a_whole_source_unavailable(monkeypatch):
    """REGISTER_UNAVAILABLE_SOURCES=skatteverket makes Skatteverket fail for everyone."""
    monkeypatch.setenv(UNAVAILABLE_SOURCES_ENV, "csn, skatteverket")
    register = FileRegister(data_dir=REGISTER_DIR)
    with pytest.raises(RegisterUnavailable):
        register.fetch_source(source="skatteverket", personnummer=JONAS, month="2026-02")


def test_constructor_argument_overrides_the_environment(monkeypatch):
    """An explicit empty unavailable_sources ignores the environment variable."""
    monkeypatch.setenv(UNAVAILABLE_SOURCES_ENV, "skatteverket")
    register = FileRegister(data_dir=REGISTER_DIR, unavailable_sources=[])
    answer = register.fetch_source(source="skatteverket", personnummer=JONAS, month="2026-02")
    assert amounts(answer) == {"salary_net": 14900}


def test_unknown_person_raises_without_the_number_in_the_message(register):
    """An unknown personnummer raises PersonNotFound, whose message leaves the number out."""
    unknown = "199001012385"
    with pytest.raises(PersonNotFound) as excinfo:
        register.fetch_source(source="csn", personnummer=unknown, month="2026-02")
    assert unknown not in str(excinfo.value)


def test_unknown_source_raises(register):
    """A source the connector does not serve raises UnknownSource."""
    with pytest.raises(UnknownSource):
        register.fetch_source(source="arbetsformedlingen", personnummer=SARA, month="2026-02")


@pytest.mark.parametrize("month", ["2026-13", "2026-2", "202602", ""])
def test_malformed_month_raises(register, month):
    """A month that is not "YYYY-MM" raises ValueError instead of answering empty."""
    with pytest.raises(ValueError):
        register.fetch_source(source="csn", personnummer=SARA, month=month)


# population_household


def test_household_of_married_couple_with_children(register):
    """Johan's registered household: himself, his spouse and three children."""
    members = register.population_household(personnummer=JOHAN)
    assert members[0] == HouseholdMember(JOHAN, "applicant")
    assert set(members[1:]) == {
        HouseholdMember(MARIA, "spouse"),
        HouseholdMember(ELSA, "child"),
        HouseholdMember(IVAR, "child"),
        HouseholdMember(SAGA, "child"),
    }


def test_relation_is_seen_from_the_person_asked(register):
    """Asked about Maria, Johan is the spouse and Maria the applicant."""
    members = register.population_household(personnummer=MARIA)
    assert members[0] == HouseholdMember(MARIA, "applicant")
    assert HouseholdMember(JOHAN, "spouse") in members


def test_cohabiting_partners_are_partner(register):
    """Daniel and Sofia live together unmarried: relation "partner"; Nora is their child."""
    members = set(register.population_household(personnummer=SOFIA))
    assert {HouseholdMember(DANIEL, "partner"), HouseholdMember(NORA, "child")} <= members


def test_shared_household_adult_is_other_adult(register):
    """Erik and Jonas share a flat without being a couple: Jonas is "other_adult"."""
    members = register.population_household(personnummer=ERIK)
    assert members == [HouseholdMember(ERIK, "applicant"), HouseholdMember(JONAS, "other_adult")]


def test_extra_adult_registered_at_the_address(register):
    """Marcus is registered at Jenny's address as another adult."""
    members = set(register.population_household(personnummer=JENNY))
    assert members == {
        HouseholdMember(JENNY, "applicant"),
        HouseholdMember(LEO, "child"),
        HouseholdMember(MARCUS, "other_adult"),
    }


def test_person_with_coordination_number_has_no_registered_household(register):
    """Tomasz is not folkbokförd: only he himself is returned."""
    assert register.population_household(personnummer=TOMASZ) == [
        HouseholdMember(TOMASZ, "applicant")
    ]


def test_population_register_can_be_unavailable():
    """With "folkbokforing" switched off, population_household raises RegisterUnavailable."""
    register = FileRegister(data_dir=REGISTER_DIR, unavailable_sources=[POPULATION_REGISTER])
    with pytest.raises(RegisterUnavailable) as excinfo:
        register.population_household(personnummer=SARA)
    assert excinfo.value.source == POPULATION_REGISTER


def test_population_household_of_unknown_person_raises(register):
    """An unknown person raises PersonNotFound."""
    with pytest.raises(PersonNotFound):
        register.population_household(personnummer="199001012385")


# get_connector


class RecordingConnector:
    """A stand-in connector that records how it was built."""

    def __init__(self, *, data_dir):
        self.data_dir = data_dir


def test_get_connector_builds_the_default_file_register(settings, monkeypatch):
    """By default get_connector() returns a FileRegister reading REGISTER_DATA_DIR."""
    monkeypatch.delenv(UNAVAILABLE_SOURCES_ENV, raising=False)
    settings.REGISTER_CONNECTOR = "flows.connectors.file_register.FileRegister"
    settings.REGISTER_DATA_DIR = REGISTER_DIR
    connector = get_connector()
    assert isinstance(connector, FileRegister)
    assert connector.data_dir == REGISTER_DIR


def test_get_connector_honours_the_setting(settings, tmp_path):
    """get_connector() builds the class named by REGISTER_CONNECTOR with REGISTER_DATA_DIR."""
    settings.REGISTER_CONNECTOR = f"{__name__}.RecordingConnector"
    settings.REGISTER_DATA_DIR = tmp_path
    connector = get_connector()
    assert isinstance(connector, RecordingConnector)
    assert connector.data_dir == tmp_path


# Demo applications


@pytest.mark.parametrize("path", sorted(DEMO_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_demo_application_is_for_march_2026_with_all_income_keys(path):
    """Each demo application is for 2026-03, named by its external ref, with every income key."""
    application = json.loads(path.read_text(encoding="utf-8"))
    assert application["process"] == "ekonomiskt-bistand"
    assert application["period"] == "2026-03"
    assert application["external_ref"] == path.stem
    assert set(application["incomes"]) == KNOWN_INCOME_TYPES | {"other"}


def test_there_are_six_demo_applications_one_a_second_application_for_the_month():
    """data/demo_applications holds five households' applications and one repeat of the
    first household's for the same month (held for review)."""
    applications = [json.loads(p.read_text(encoding="utf-8")) for p in DEMO_DIR.glob("*.json")]
    assert len(applications) == 6
    people = [(a["applicant"]["personnummer"], a["period"]) for a in applications]
    assert len(set(people)) == 5
