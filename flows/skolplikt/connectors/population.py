"""Children in the population register (folkbokföring), with guardians and protection.

The home municipality's duty (Skollag 7 kap. 21–22 §§) follows the register: a child
folkbokförd here is ours to monitor wherever it goes to school. The register is
Skatteverket's (Navet); in development, demos and tests this file-backed stand-in answers.

File ``folkbokforing.json`` (synthetic people only, see data/skolplikt/README.md)::

    {"municipality_code": "1281",
     "children": [{"personnummer": "YYYYMMDDNNNC", "name": "...",
                   "municipality_code": "1281", "folkbokford_from": null,
                   "address": {"street": "...", "postal_code": "...", "locality": "..."},
                   "skyddad_identitet": false, "uppskjuten_skolplikt": false,
                   "guardians": [{"personnummer": "...", "name": "...", "address": {...}}]}]}

``skyddad_identitet`` stands for the register's protection markers (sekretessmarkering,
skyddad folkbokföring): the child's and guardians' names and addresses must not reach a school
or a list. ``uppskjuten_skolplikt`` records the home municipality's decision to defer the
start one year (7 kap. 10 § second sentence).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from municipality.personnummer import PersonnummerError, parse_personnummer

POPULATION_FILE = "folkbokforing.json"

POPULATION_FILE_MISSING = "POPULATION_FILE_MISSING"
POPULATION_MALFORMED = "POPULATION_MALFORMED"
POPULATION_INVALID = "POPULATION_INVALID"


class PopulationRegisterError(Exception):
    """The register file cannot be read; ``code`` is one of the ``POPULATION_*`` names."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(_Strict):
    street: str
    postal_code: str
    locality: str


def _pnr(value: str) -> str:
    try:
        return parse_personnummer(value).canonical
    except PersonnummerError as exc:
        raise ValueError(exc.message) from None


class Guardian(_Strict):
    personnummer: str
    name: str
    address: Address | None = None

    _check_pnr = field_validator("personnummer")(_pnr)


class Child(_Strict):
    personnummer: str
    name: str
    municipality_code: str = Field(pattern=r"^[0-9]{4}$")
    address: Address | None = None
    folkbokford_from: date | None = None
    skyddad_identitet: bool = False
    uppskjuten_skolplikt: bool = False
    guardians: tuple[Guardian, ...] = ()

    _check_pnr = field_validator("personnummer")(_pnr)

    @property
    def birth_date(self) -> date:
        return parse_personnummer(self.personnummer).birth_date


class RegisterFile(_Strict):
    about: str | None = None
    municipality_code: str = Field(pattern=r"^[0-9]{4}$")
    children: tuple[Child, ...]


@dataclass(frozen=True)
class RegisterExtract:
    """The register's answer: the home municipality and the children folkbokförda there."""

    municipality_code: str
    children: tuple[Child, ...]


@runtime_checkable
class PopulationRegister(Protocol):
    def children_registered(self) -> RegisterExtract:
        """Children folkbokförda in the home municipality (others are left out)."""
        ...


class FilePopulationRegister:
    """Reads ``folkbokforing.json`` from a directory."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / POPULATION_FILE

    @cached_property
    def _file(self) -> RegisterFile:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PopulationRegisterError(
                POPULATION_FILE_MISSING, f"No population-register file {self.path}."
            ) from None
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PopulationRegisterError(
                POPULATION_MALFORMED, f"{self.path}: malformed JSON ({exc})."
            ) from None
        try:
            return RegisterFile.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            location = ".".join(str(p) for p in first["loc"])
            # The message names the place, not the value: it may be a personnummer.
            raise PopulationRegisterError(
                POPULATION_INVALID, f"{self.path}: {location}: {first['msg']}."
            ) from None

    def children_registered(self) -> RegisterExtract:
        register = self._file
        return RegisterExtract(
            municipality_code=register.municipality_code,
            children=tuple(
                c for c in register.children if c.municipality_code == register.municipality_code
            ),
        )
