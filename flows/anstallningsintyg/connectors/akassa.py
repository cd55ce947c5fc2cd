"""Delivery of an arbetsgivarintyg to the unemployment funds, behind one interface.

The funds receive employer certificates through their joint service (Arbetsgivarintyg.nu,
run by Sveriges a-kassor), which payroll systems can connect to. It cannot be reached from
here, so the file-backed stand-in writes one JSON file per delivery in a folder.

Deliveries are idempotent by `delivery_id`: a flow task retried after a crash must not
deliver twice, and must not silently replace what was delivered. The same id with the same
payload answers with the first receipt; the same id with another payload is refused
(`DeliveryConflict`) — a corrected certificate is a new delivery with a new id.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

# Letters, digits, "-" and "_": the id becomes a file name, so nothing that can leave the folder.
DELIVERY_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")


class DeliveryError(Exception):
    """Base class of delivery errors."""


class DeliveryInvalid(DeliveryError):
    """The delivery id or payload cannot be delivered as given."""


class DeliveryConflict(DeliveryError):
    """The delivery id was used before for a different payload."""


class DeliveryUnavailable(DeliveryError):
    """The fund's service (or the stand-in's folder) cannot be written to; retry later."""


@dataclass(frozen=True)
class DeliveryReceipt:
    delivery_id: str
    payload_sha256: str
    delivered_at: str  # ISO 8601, UTC, of the first delivery
    already_delivered: bool  # True when this call found the delivery made before


def payload_sha256(payload: dict) -> str:
    """Hash of the payload's canonical JSON (sorted keys, no spaces), kept with the receipt."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@runtime_checkable
class ArbetsgivarintygDelivery(Protocol):
    def deliver(self, *, delivery_id: str, payload: dict) -> DeliveryReceipt:
        """Deliver once; a repeat with the same id and payload returns the first receipt."""


class FileDelivery:
    """Writes `<folder>/<delivery_id>.json` holding the payload, its hash and the time."""

    def __init__(self, *, folder: str | Path):
        self.folder = Path(folder)

    def deliver(self, *, delivery_id: str, payload: dict) -> DeliveryReceipt:
        if not isinstance(delivery_id, str) or not DELIVERY_ID_RE.match(delivery_id):
            raise DeliveryInvalid(
                "A delivery id is 1–80 letters, digits, '-' or '_', starting with a letter or digit."
            )
        try:
            digest = payload_sha256(payload)
        except (TypeError, ValueError) as exc:
            raise DeliveryInvalid(f"The payload is not JSON: {exc}") from None
        target = self.folder / f"{delivery_id}.json"
        existing = self._read(target)
        if existing is not None:
            return self._repeat(existing, delivery_id=delivery_id, digest=digest)
        record = {
            "delivery_id": delivery_id,
            "payload_sha256": digest,
            "delivered_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "payload": payload,
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Written to a temporary file, then linked into place: os.link fails if the
            # target exists, so of two concurrent deliveries with one id exactly one wins
            # and no reader ever sees half a file.
            fd, tmp_name = tempfile.mkstemp(dir=self.folder, prefix=".delivery-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as tmp:
                    json.dump(record, tmp, ensure_ascii=False, indent=2, sort_keys=True)
                    tmp.flush()
                    os.fsync(tmp.fileno())
                os.link(tmp_name, target)
            finally:
                os.unlink(tmp_name)
        except FileExistsError:
            return self._repeat(self._read(target), delivery_id=delivery_id, digest=digest)
        except OSError as exc:
            raise DeliveryUnavailable(f"Cannot write to {self.folder}: {exc.strerror}") from None
        return DeliveryReceipt(
            delivery_id=delivery_id,
            payload_sha256=digest,
            delivered_at=record["delivered_at"],
            already_delivered=False,
        )

    @staticmethod
    def _read(path: Path) -> dict | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            raise DeliveryUnavailable(
                f"The delivery record {path.name} cannot be read: {exc}"
            ) from None

    @staticmethod
    def _repeat(existing: dict, *, delivery_id: str, digest: str) -> DeliveryReceipt:
        if existing["payload_sha256"] != digest:
            raise DeliveryConflict(
                f"Delivery {delivery_id} was made before with different content; "
                "a corrected certificate needs a new delivery id."
            )
        return DeliveryReceipt(
            delivery_id=delivery_id,
            payload_sha256=digest,
            delivered_at=existing["delivered_at"],
            already_delivered=True,
        )
