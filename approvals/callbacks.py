"""Callbacks to the applicant's system: a signed POST for each status change of its cases.

Written in the same transaction as the change (from audit.audit_append), delivered by
the outbox worker (`deliver_prefect_commands --loop` or `deliver_callbacks`), retried
with back-off. The body carries ids and the status only; the receiver fetches details
with its token from the status endpoint.

Signature: header ``X-Robotfabrik-Signature: t=<unix time>,v1=<hex>`` where ``v1`` is
HMAC-SHA256 under the endpoint's secret of ``"<t>.<body>"`` (the body as sent, UTF-8).
"""

import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import CallbackDelivery, CallbackEndpoint, Case

SIGNATURE_SCHEME = (
    "X-Robotfabrik-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<body>' under the secret>"
)
MAX_ATTEMPTS = 12
MAX_BACKOFF_SECONDS = 3600
TIMEOUT_SECONDS = 5


def endpoint_register(*, user, url: str) -> CallbackEndpoint:
    """Register (or replace) the account's callback URL with a new secret, shown once."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint, _ = CallbackEndpoint.objects.update_or_create(
        user=user, defaults={"url": url, "secret": secret, "created_at": timezone.now()}
    )
    return endpoint


def callbacks_enqueue(*, case: Case, event: str) -> CallbackDelivery | None:
    endpoint = CallbackEndpoint.objects.filter(user_id=case.received_by_id).first()
    if endpoint is None:
        return None
    case.refresh_from_db(fields=["status"])
    status_path = reverse("api:application_status", args=[case.pk])
    payload = {
        "event": event,
        "case": {
            "id": case.pk,
            "external_ref": case.external_ref,
            "process": case.process,
            "status": case.status,
            "status_url": settings.SITE_URL.rstrip("/") + status_path,
        },
        "occurred_at": timezone.now().isoformat(),
    }
    return CallbackDelivery.objects.create(
        endpoint=endpoint, case=case, event=event, payload=payload
    )


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def signature_valid(*, secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """For receivers (and tests): the header matches the body and is recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, header)


def callback_deliver(*, delivery_id: int) -> bool:
    """Try one pending callback; True when the receiver answered 2xx."""
    import httpx

    with transaction.atomic():
        delivery = (
            CallbackDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint")
            .filter(pk=delivery_id, status=CallbackDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return True
        delivery.attempts += 1
        body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
        now = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Robotfabrik-Event": delivery.event,
            "X-Robotfabrik-Delivery": str(delivery.pk),
            "X-Robotfabrik-Signature": signature(
                secret=delivery.endpoint.secret, timestamp=now, body=body
            ),
        }
        try:
            response = httpx.post(
                delivery.endpoint.url, content=body, headers=headers, timeout=TIMEOUT_SECONDS
            )
            ok = 200 <= response.status_code < 300
            error = "" if ok else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"
        if ok:
            delivery.status = CallbackDelivery.Status.DONE
            delivery.delivered_at = timezone.now()
            delivery.last_error = ""
        else:
            delivery.last_error = error[:2000]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = CallbackDelivery.Status.DEAD
            delay = min(MAX_BACKOFF_SECONDS, 2 ** min(delivery.attempts, 12))
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        delivery.save()
    return ok


def callbacks_deliver_due(*, limit: int = 100) -> tuple[int, int]:
    """Deliver every due callback. Returns (delivered, still pending)."""
    ids = list(
        CallbackDelivery.objects.filter(
            status=CallbackDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    delivered = sum(1 for pk in ids if callback_deliver(delivery_id=pk))
    return delivered, len(ids) - delivered
