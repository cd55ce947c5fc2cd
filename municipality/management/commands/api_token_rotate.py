"""Issue a new API token for an integration account, and revoke the old ones.

Rotation in two steps so that the e-service never stands without a valid token:
1. ``api_token_rotate ACCOUNT --name 2027-01`` prints a new token once (only its SHA-256
   is stored); the e-service is configured with it;
2. ``api_token_rotate ACCOUNT --revoke-except 2027-01`` revokes every other token of the
   account (kept as revoked rows: the trail still names the token each case came with).
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from municipality.models import ApiToken, Staff


class Command(BaseCommand):
    help = "Issue a new API token for an integration account, or revoke its other tokens."

    def add_arguments(self, parser):
        parser.add_argument("account", help="Username of the integration account.")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--name", help="Name of the new token (e.g. the month it starts).")
        group.add_argument(
            "--revoke-except",
            metavar="NAME",
            help="Revoke every active token of the account except the one with this name.",
        )

    def handle(self, *args, account, name, revoke_except, **options):
        user = get_user_model().objects.filter(username=account).first()
        if user is None:
            raise CommandError(f"No account {account!r}.")
        staff = Staff.objects.filter(user=user).first()
        if staff is None or staff.kind != Staff.Kind.INTEGRATION:
            # Tokens act without a password: only integration accounts hold them.
            raise CommandError(f"{account!r} is not an integration account.")
        active = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
        if name:
            if active.filter(name=name).exists():
                raise CommandError(f"{account!r} already has an active token named {name!r}.")
            raw = ApiToken.generate()
            ApiToken.objects.create(user=user, name=name, token_sha256=ApiToken.hash(raw))
            self.stdout.write(raw)
            self.stderr.write(
                f"New token {name!r} for {account}: shown once, give it to the e-service, "
                f"then run --revoke-except {name}."
            )
            return
        with transaction.atomic():
            if not active.filter(name=revoke_except).exists():
                raise CommandError(
                    f"{account!r} has no active token named {revoke_except!r}; nothing revoked."
                )
            now = timezone.now()
            count = 0
            # One save per token (not a bulk update): each revocation is an event on the
            # audit trail (municipality.account_audit).
            for token in active.exclude(name=revoke_except).select_for_update():
                token.revoked_at = now
                token.save(update_fields=["revoked_at"])
                count += 1
        self.stdout.write(f"Revoked {count} token(s) of {account}; {revoke_except!r} stays.")
