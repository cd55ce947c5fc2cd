"""One case's trail for an outside party: JSON that re-verifies on its own, and a PDF report.

The JSON carries every event exactly as its hash covers it (plus the hash), the
rule for recomputing the hash, and the head of the global chain when exported, so
that the case chain can be checked without access to this system.
"""

from django.utils import timezone

from .audit import GENESIS_HASH, case_chain_break, event_payload
from .audit_selectors import case_decisions, case_timeline
from .models import AuditChainHead, Case, CosignatureDecline
from .printing import html_to_pdf, render_html

EXPORT_FORMAT = "robotfabrik.case-trail/1"

HASHING = {
    "algorithm": "SHA-256, hex",
    "covers": "every field of the event except 'hash'",
    "canonical_json": "UTF-8 JSON with keys sorted, no whitespace, non-ASCII kept "
    "(Python: json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(',', ':')))",
    "genesis": GENESIS_HASH,
    "case_chain": "each event's case_prev_hash is the hash of the case's previous event, "
    "the genesis value for its first",
    "global_chain": "each event's prev_hash is the hash of the event with seq - 1 in the whole "
    "trail (other cases' events are not in this export)",
}


def _decision_dict(decision, evidence) -> dict:
    return {
        "id": decision.pk,
        "request": decision.request_id,
        "outcome": decision.outcome,
        "authority_amount": decision.authority_amount,
        "proposed_authority_amount": decision.request.authority_amount,
        "decided": decision.decided,
        "followed_proposal": decision.followed_proposal,
        "adjustments": decision.adjustments,
        "motivation": decision.motivation,
        "material_version": decision.material.version,
        "material_sha256": decision.material_sha256,
        "cosignature_required": decision.cosignature_required,
        "verified_at": decision.verified_at.isoformat() if decision.verified_at else None,
        "executed_at": decision.executed_at.isoformat() if decision.executed_at else None,
        "signatures": [
            {
                "role": e.role,
                "signer": e.signer_name,
                "title": e.signer_title,
                "on_behalf_of": e.on_behalf_of or None,
                "delegation": e.delegation_reference or None,
                "material_opened_at": e.opened_at.isoformat(),
                "signed_at": e.signed_at.isoformat(),
                "seconds_from_open_to_sign": e.seconds_open_to_sign,
                "material_views_before_signing": e.material_views_before_signing,
                "material_sha256": e.material_sha256,
            }
            for e in evidence
        ],
    }


def case_trail_export(*, case: Case) -> dict:
    """The case's trail as JSON values (see the module docstring)."""
    events = [{**event_payload(e), "hash": e.hash} for e in case_timeline(case=case)]
    head = AuditChainHead.objects.filter(pk=1).first()
    broken = case_chain_break(events)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "case": {
            "id": case.pk,
            "process": case.process,
            "external_ref": case.external_ref,
            "unit": case.unit.code,
            "data": case.data,
            "decision_mode": case.decision_mode,
            "public_authority": case.public_authority,
            "status": case.status,
            "received_at": case.received_at.isoformat(),
            "payload_sha256": case.payload_sha256,
            "schema_version": case.schema_version,
        },
        "hashing": HASHING,
        "chain_head": {"seq": head.last_seq, "hash": head.last_hash} if head else None,
        "case_chain_intact_at_export": broken is None,
        "materials": [
            {
                "id": m.pk,
                "version": m.version,
                "created_at": m.created_at.isoformat(),
                "html_sha256": m.sha256,
                "pdf_sha256": m.pdf_sha256,
                "ruleset_version": m.ruleset_version,
                "authority_amount": m.authority_amount,
                "compiled_by": m.compiled_by,
            }
            for m in case.materials.order_by("version")
        ],
        "documents": [
            {
                "id": document.pk,
                "kind": document.kind,
                "decision": document.decision_id,
                "created_at": document.created_at.isoformat(),
                "pdf_sha256": document.sha256,
            }
            for document in case.documents.defer("pdf").order_by("pk")
        ],
        "decisions": [_decision_dict(d, ev) for d, ev in case_decisions(case=case)],
        "notes": [
            {
                "id": n.pk,
                "written_at": n.written_at.isoformat(),
                "author": n.author_name,
                "author_title": n.author_title,
                "text": n.text,
                "refers_to": n.refers_to_id,
            }
            for n in case.notes.order_by("written_at", "pk")
        ],
        "cosignature_declines": [
            {
                "decision": d.decision_id,
                "signer": d.signer_name,
                "reason": d.reason,
                "declined_at": d.declined_at.isoformat(),
                "reopened_request": d.reopened_id,
            }
            for d in CosignatureDecline.objects.filter(decision__request__case=case).order_by(
                "declined_at", "pk"
            )
        ],
        "events": events,
    }


def case_trail_pdf(*, case: Case, exported_by: str) -> bytes:
    """The case's trail as a printable report (WeasyPrint)."""
    export = case_trail_export(case=case)
    html = render_html(
        "approvals/audit_report_pdf.html",
        {
            "case": case,
            "export": export,
            "decisions": case_decisions(case=case),
            "events": case_timeline(case=case),
            "exported_by": exported_by,
        },
    )
    return html_to_pdf(html)
