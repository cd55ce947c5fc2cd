from django.core.management.base import BaseCommand, CommandError

from approvals.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exits non-zero naming the first broken event."

    def handle(self, *args, **options):
        broken = audit_verify()
        if broken is not None:
            raise CommandError(f"Audit trail broken at event {broken.seq}: {broken.reason}")
        self.stdout.write(self.style.SUCCESS("Audit trail intact."))
