"""The file-backed population register of children."""

import json
from datetime import date

import pytest

from flows.skolplikt.connectors.population import (
    POPULATION_FILE_MISSING,
    POPULATION_INVALID,
    POPULATION_MALFORMED,
    FilePopulationRegister,
    PopulationRegister,
    PopulationRegisterError,
)
from tests.flows.skolplikt.builders import child, pnr


def write(tmp_path, body):
    (tmp_path / "folkbokforing.json").write_text(json.dumps(body))
    return FilePopulationRegister(tmp_path)


def test_children_of_the_home_municipality_with_birth_date_and_guardians(tmp_path):
    """Only children folkbokförda in the home municipality come back, birth date from pnr."""
    register = write(
        tmp_path,
        {
            "municipality_code": "1281",
            "children": [
                child(pnr("20150312"), "Hemma Barn"),
                child(pnr("20150313"), "Borta Barn", municipality_code="1280"),
            ],
        },
    )
    assert isinstance(register, PopulationRegister)
    extract = register.children_registered()
    assert extract.municipality_code == "1281"
    assert [c.name for c in extract.children] == ["Hemma Barn"]
    assert extract.children[0].birth_date == date(2015, 3, 12)
    assert extract.children[0].guardians[0].name == "Vårdnadshavare Ett"
    assert extract.children[0].skyddad_identitet is False


def test_invalid_personnummer_is_refused_without_repeating_it(tmp_path):
    """A wrong check digit is POPULATION_INVALID; the message does not contain the number."""
    bad = pnr("20150312")[:-1] + str((int(pnr("20150312")[-1]) + 1) % 10)
    register = write(tmp_path, {"municipality_code": "1281", "children": [child(bad)]})
    with pytest.raises(PopulationRegisterError) as info:
        register.children_registered()
    assert info.value.code == POPULATION_INVALID
    assert bad not in info.value.message


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (None, POPULATION_FILE_MISSING),
        ("{", POPULATION_MALFORMED),
        ('{"children": []}', POPULATION_INVALID),
        ('{"municipality_code": "1281", "children": [], "extra": 1}', POPULATION_INVALID),
    ],
)
def test_bad_register_files(tmp_path, content, code):
    """Missing, malformed and wrongly shaped files raise their own codes."""
    if content is not None:
        (tmp_path / "folkbokforing.json").write_text(content)
    with pytest.raises(PopulationRegisterError) as info:
        FilePopulationRegister(tmp_path).children_registered()
    assert info.value.code == code
