"""Staff personnummer are validated and stored canonically (issue 10, point 1)."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from municipality.models import Staff
from municipality.staff_personnummer import STAFF_PERSONNUMMER_INVALID
from tests.conftest import _app_role_name


def staff_with(personnummer: str, username: str = "kajsa") -> Staff:
    user = User.objects.create_user(username)
    return Staff(user=user, personnummer=personnummer)


@pytest.mark.django_db
@pytest.mark.parametrize("written", ["9107012388", "910701-2388", "19910701-2388", "199107012388"])
def test_every_written_form_is_stored_as_twelve_digits(written):
    """A 10-digit `9107012388` (or any written form) is stored as `199107012388`, the form
    the conflict-of-interest check compares with a case's household."""
    staff = staff_with(written)
    staff.save()
    staff.refresh_from_db()
    assert staff.personnummer == "199107012388"


@pytest.mark.django_db
def test_full_clean_canonicalises_and_rejects_an_invalid_number():
    """The admin's form validation (full_clean) stores the canonical form and refuses a wrong
    check digit on the personnummer field."""
    staff = staff_with("910701-2388")
    staff.full_clean()
    assert staff.personnummer == "199107012388"
    wrong = staff_with("9107012389", username="kalle")
    with pytest.raises(ValidationError) as error:
        wrong.full_clean()
    assert "personnummer" in error.value.message_dict


@pytest.mark.django_db
def test_save_refuses_an_invalid_number_and_writes_nothing():
    """save() outside any form refuses an invalid number with the named code; no row."""
    staff = staff_with("9107012389")
    with pytest.raises(ValidationError) as error:
        staff.save()
    assert error.value.code == STAFF_PERSONNUMMER_INVALID
    assert not Staff.objects.filter(user__username="kajsa").exists()


@pytest.mark.django_db
def test_database_refuses_a_non_canonical_number_written_around_the_model():
    """An UPDATE that bypasses save() cannot store the 10-digit form (check constraint)."""
    staff = staff_with("199107012388")
    staff.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Staff.objects.filter(pk=staff.pk).update(personnummer="9107012388")


@pytest.mark.django_db(transaction=True)
def test_migration_canonicalises_existing_rows(owner_session):
    """Rows written before the change (10 digits, with a hyphen) are canonical after migrate."""
    executor = MigrationExecutor(connection)
    before = [("municipality", "0005_processes_from_registry")]
    # Back to every app's latest: going back to municipality 0005 also unapplies the other
    # apps' migrations that depend on a later one (approvals 0014 and up).
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    OldStaff = old_apps.get_model("municipality", "Staff")
    OldUser = old_apps.get_model("auth", "User")
    user = OldUser.objects.create(username="legacy")
    old = OldStaff.objects.create(user_id=user.pk, personnummer="9107012388")
    blank = OldStaff.objects.create(
        user_id=OldUser.objects.create(username="nopnr").pk, personnummer=""
    )
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    assert not MigrationExecutor(connection).migration_plan(latest)  # nothing left unapplied
    # Tables made again need the suite's app role's grants again.
    if connection.vendor == "postgresql":
        call_command("db_grant_app_role", role=_app_role_name(connection.settings_dict["NAME"]))
    assert Staff.objects.get(pk=old.pk).personnummer == "199107012388"
    assert Staff.objects.get(pk=blank.pk).personnummer == ""
