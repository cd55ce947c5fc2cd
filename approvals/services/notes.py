"""Journal notes (journalanteckningar): the handling of a case documented, dated and signed.

A note is a locked record once saved (the database refuses to change or remove it,
migration 0012); a correction or addition is an addendum, a new note that refers to
the one it adds to. Every note is on the audit trail with its text.
"""

from django.db import transaction
from django.utils.translation import gettext_lazy

from ..access import may_write_note
from ..audit import Kind, actor_label_for, audit_append
from ..models import Case, CaseNote
from .errors import ServiceError

NOTE_NO_ACCESS = "NOTE_NO_ACCESS"
NOTE_EMPTY = "NOTE_EMPTY"
NOTE_TOO_LONG = "NOTE_TOO_LONG"
NOTE_REFERS_ELSEWHERE = "NOTE_REFERS_ELSEWHERE"
NOTE_MAX_LENGTH = 10_000

MESSAGES = {
    NOTE_NO_ACCESS: gettext_lazy("Only a caseworker of the case's unit can write notes on it."),
    NOTE_EMPTY: gettext_lazy("Write the note before saving it."),
    NOTE_TOO_LONG: gettext_lazy("The note is too long (at most 10 000 characters)."),
    NOTE_REFERS_ELSEWHERE: gettext_lazy("The note you add to is not on this case."),
}


class NoteRefused(ServiceError):
    """A refused note; `code` is one of NOTE_*."""

    def __init__(self, code: str):
        super().__init__(code, str(MESSAGES[code]))


def note_write(*, case_id: int, user, text: str, refers_to_id: int | None = None) -> CaseNote:
    """Write a note (or an addendum to note `refers_to_id`) on a case, and log it."""
    text = (text or "").strip()
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if not may_write_note(user=user, case=case):
            raise NoteRefused(NOTE_NO_ACCESS)
        if not text:
            raise NoteRefused(NOTE_EMPTY)
        if len(text) > NOTE_MAX_LENGTH:
            raise NoteRefused(NOTE_TOO_LONG)
        refers_to = None
        if refers_to_id is not None:
            refers_to = CaseNote.objects.filter(pk=refers_to_id, case=case).first()
            # An addendum adds to a note of the same case, never to another case's.
            if refers_to is None:
                raise NoteRefused(NOTE_REFERS_ELSEWHERE)
        staff = user.staff
        note = CaseNote.objects.create(
            case=case,
            author=user,
            author_name=user.get_full_name() or user.get_username(),
            author_title=staff.title or staff.get_role_display(),
            text=text,
            refers_to=refers_to,
        )
        audit_append(
            kind=Kind.NOTE_WRITTEN,
            actor=user,
            actor_label=actor_label_for(user),
            case=case,
            data={"note": note.pk, "refers_to": refers_to_id, "text": text},
        )
    return note
