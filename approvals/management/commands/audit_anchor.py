"""`manage.py audit_anchor [--every S]`: append the chain head, signed, to the anchor file."""

import time

from django.core.management.base import BaseCommand

from approvals.anchors import anchor_append


class Command(BaseCommand):
    help = (
        "Append the audit chain's head (sequence number and hash, HMAC-signed) to the "
        "append-only anchor file outside the database (AUDIT_ANCHOR_FILE)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, metavar="SECONDS", help="Keep running.")

    def handle(self, *args, every=None, **options):
        while True:
            anchor = anchor_append()
            self.stdout.write(f"anchored {anchor.seq}:{anchor.hash}" if anchor else "empty trail")
            if not every:
                return
            time.sleep(every)
