"""Anchors of the audit chain kept outside the database.

The table owner can truncate the trail and reset its head, rewrite it with the triggers
off and recompute every hash, or drop its last events: the chain is then intact in
itself. An anchor — the head's sequence number and hash at a moment, signed with
HMAC-SHA256 under a key the database does not hold — appended to a file the database
role cannot write (another host, WORM storage) survives all three: verify_audit checks
that every anchored event still exists with its hash and that the head is not behind
the newest anchor. `manage.py audit_anchor --every 300` appends one periodically.
"""

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .models import AuditChainHead, AuditEvent


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str
    mac: str


def _key() -> bytes:
    key = settings.AUDIT_ANCHOR_KEY or settings.SECRET_KEY
    return hashlib.sha256(("robotfabrik-audit-anchor:" + key).encode()).digest()


def _mac(seq: int, head_hash: str, at: str) -> str:
    return hmac.new(_key(), f"{seq}:{head_hash}:{at}".encode(), hashlib.sha256).hexdigest()


def anchor_append(path: Path | None = None) -> Anchor | None:
    """Append the current head as a signed line (O_APPEND: never rewrites earlier lines)."""
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None or head.last_seq == 0:
        return None
    path = Path(path or settings.AUDIT_ANCHOR_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    at = timezone.now().isoformat()
    anchor = Anchor(head.last_seq, head.last_hash, at, _mac(head.last_seq, head.last_hash, at))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, f"{anchor.seq} {anchor.hash} {anchor.at} {anchor.mac}\n".encode())
    finally:
        os.close(fd)
    return anchor


def anchors_read(path: Path | None = None) -> list[Anchor]:
    path = Path(path or settings.AUDIT_ANCHOR_FILE)
    if not path.exists():
        return []
    anchors = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0].isdigit():
            anchors.append(Anchor(int(parts[0]), parts[1], parts[2], parts[3]))
    return anchors


def anchors_check(path: Path | None = None) -> str | None:
    """The first way the trail disagrees with the anchors kept outside it, or None."""
    anchors = anchors_read(path)
    if not anchors:
        return None
    for anchor in anchors:
        # A line whose signature does not verify was not written by this installation.
        if not hmac.compare_digest(anchor.mac, _mac(anchor.seq, anchor.hash, anchor.at)):
            return f"anchor of event {anchor.seq} ({anchor.at}) is not validly signed"
        stored = AuditEvent.objects.filter(seq=anchor.seq).values_list("hash", flat=True).first()
        if stored is None:
            return f"event {anchor.seq}, anchored at {anchor.at}, is missing"
        if stored != anchor.hash:
            return f"event {anchor.seq} differs from its anchor of {anchor.at} (rewritten)"
    head = AuditChainHead.objects.filter(pk=1).first()
    newest = max(a.seq for a in anchors)
    if head is None or head.last_seq < newest:
        return f"the trail ends before event {newest}, anchored earlier (events removed)"
    return None
