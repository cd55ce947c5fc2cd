"""The HR/payroll system behind one interface, and a file-backed stand-in.

A municipality's payroll (Visma, Heroma, Personec …) exports employees, employments and
monthly payroll; PAXml is the Swedish exchange format for payroll data. None can be reached
from a development machine, so the robot talks to an `HRConnector` and the deployment
chooses the implementation. The file-backed one reads `employees.json`
(see data/anstallningsintyg/README.md).

An HR system that cannot be read raises `HRUnavailable`; a record that does not parse
raises `HRDataError`. Neither may become an empty history: a certificate saying "no
employment" for someone whose data could not be read would be false.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import ValidationError

from flows.anstallningsintyg.schemas import Employee, Employer, HRFile
from municipality.personnummer import PersonnummerError, parse_personnummer

HR_FILE_NAME = "employees.json"


class HRError(Exception):
    """Base class of HR connector errors."""


class HRUnavailable(HRError):
    """The HR system could not be read."""


class HRDataError(HRError):
    """The HR system answered with data that does not parse."""


class EmployeeNotFound(HRError):
    """No employee with that id (or personnummer) in the HR system."""


@runtime_checkable
class HRConnector(Protocol):
    def employer(self) -> Employer:
        """The employer the certificates are issued by."""

    def employee(self, employee_id: str) -> Employee:
        """The employee with that id; `EmployeeNotFound` otherwise."""

    def employee_for_personnummer(self, personnummer: str) -> Employee:
        """The employee a logged-in person is (self-service asks by identity, not by id)."""

    def employee_ids(self) -> list[str]:
        """Every employee id, sorted."""


class FileHRConnector:
    """Reads the synthetic HR register from `data_dir/employees.json` once per instance."""

    def __init__(self, *, data_dir: str | Path):
        self.path = Path(data_dir) / HR_FILE_NAME

    @cached_property
    def _file(self) -> HRFile:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise HRUnavailable(f"The HR file {self.path} cannot be read: {exc.strerror}") from None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise HRDataError(f"The HR file {self.path} is not valid JSON: {exc}") from None
        try:
            hr_file = HRFile.model_validate(data)
        except ValidationError as exc:
            # Formatted without the offending values: they may be personal identity numbers.
            problems = "\n".join(
                f"  {'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                for error in exc.errors(include_input=False, include_url=False)
            )
            raise HRDataError(
                f"The HR file {self.path} does not match the format:\n{problems}"
            ) from None
        ids = [e.id for e in hr_file.employees]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise HRDataError(f"The HR file {self.path} repeats employee ids: {duplicates}")
        return hr_file

    @cached_property
    def _by_id(self) -> dict[str, Employee]:
        return {e.id: e for e in self._file.employees}

    def employer(self) -> Employer:
        return self._file.employer

    def employee(self, employee_id: str) -> Employee:
        try:
            return self._by_id[employee_id]
        except KeyError:
            raise EmployeeNotFound(f"No employee with id {employee_id!r}.") from None

    def employee_for_personnummer(self, personnummer: str) -> Employee:
        try:
            canonical = parse_personnummer(personnummer).canonical
        except PersonnummerError:
            # Not echoed: the value may be a personal identity number.
            raise EmployeeNotFound("No employee with that personnummer.") from None
        for employee in self._file.employees:
            if employee.personnummer == canonical:
                return employee
        raise EmployeeNotFound("No employee with that personnummer.")

    def employee_ids(self) -> list[str]:
        return sorted(self._by_id)
