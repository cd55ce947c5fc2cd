from django.core.management.base import BaseCommand, CommandError

from approvals.audit import audit_guard_missing, audit_verify
from approvals.integrity import records_verify
from approvals.models import AuditChainHead, AuditEvent


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain and the database guards that keep it "
        "append-only; exits non-zero naming the first broken event."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="A head printed by an earlier run and kept outside the database; the event "
            "with that number must still carry that hash (detects a rewritten tail). "
            "May be given more than once.",
        )

    def handle(self, *args, **options):
        broken = audit_verify()
        if broken is not None:
            raise CommandError(f"Audit trail broken at event {broken.seq}: {broken.reason}")
        for anchor in options["anchor"]:
            seq_text, _, expected = anchor.partition(":")
            if not seq_text.isdigit() or len(expected) != 64:
                raise CommandError(f"Anchor {anchor!r} is not SEQ:SHA256.")
            stored = AuditEvent.objects.filter(seq=int(seq_text)).values_list("hash", flat=True)
            if list(stored) != [expected]:
                raise CommandError(
                    f"Audit trail broken at event {seq_text}: does not match the anchor kept "
                    "outside the database"
                )
        problem = records_verify()
        if problem is not None:
            raise CommandError(f"Signed record does not match the trail: {problem}")
        missing = audit_guard_missing()
        if missing:
            raise CommandError(
                "Audit trail intact, but the database no longer refuses changes: missing "
                f"trigger(s) {', '.join(missing)}. Re-create them (approvals 0004, "
                "municipality 0003)."
            )
        head = AuditChainHead.objects.filter(pk=1).first()
        if head is None or head.last_seq == 0:
            self.stdout.write(self.style.SUCCESS("Audit trail intact (empty)."))
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit trail intact: {head.last_seq} events. Head {head.last_seq}:{head.last_hash}"
            )
        )
