"""Link a person's account to their subject at the identity provider (or unlink it).

``staff_oidc_link anna kommun-7f3a-anna`` lets the login at the municipality's identity
provider whose ID token has that `sub` be anna's (municipality/oidc.py);
``staff_oidc_link anna --clear`` ends it. Only human staff; a subject belongs to one
account. Each change is an `auth.oidc_linked` event on the trail.
"""

import hashlib

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from approvals.audit import audit_append
from municipality.models import Staff

LINKED = "auth.oidc_linked"


class Command(BaseCommand):
    help = "Link a staff account to its subject (sub) at the identity provider, or --clear it."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("subject", nargs="?", default="")
        parser.add_argument("--clear", action="store_true", help="Remove the link.")

    def handle(self, *args, username, subject, clear, **options):
        subject = subject.strip()
        if clear == bool(subject):
            raise CommandError("Give either a subject or --clear.")
        staff = Staff.objects.select_related("user").filter(user__username=username).first()
        if staff is None or staff.kind != Staff.Kind.HUMAN:
            raise CommandError(f"{username!r} is no human staff account.")
        if subject and Staff.objects.filter(oidc_subject=subject).exclude(pk=staff.pk).exists():
            raise CommandError("That subject is already linked to another account.")
        with transaction.atomic():
            staff.oidc_subject = subject
            staff.save(update_fields=["oidc_subject"])
            audit_append(
                kind=LINKED,
                actor_label="manage.py staff_oidc_link",
                data={
                    "username": username,
                    "subject_sha256": hashlib.sha256(subject.encode()).hexdigest()
                    if subject
                    else "",
                },
            )
        self.stdout.write(f"{username}: {'linked' if subject else 'unlinked'}")
