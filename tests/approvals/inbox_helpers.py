"""Many approval requests, fast: copies of one compiled request, granted like the real ones.

Compiling material renders a PDF, which is too slow for the dozens of requests the
inbox tests need. These copies share the template request's material content but are
separate cases, materials, requests and grants, made with bulk_create.
"""

from datetime import timedelta

from django.contrib.auth.models import Group, Permission

from approvals.models import (
    ApprovalRequest,
    ApprovalRequestGroupObjectPermission,
    Case,
    CaseGroupObjectPermission,
    CaseParty,
    Material,
)
from municipality.models import unit_group_name


def clone_requests(template: ApprovalRequest, n: int, *, unit=None, prefix="clone", **changes):
    """n open requests like `template`, in `unit` (default: the template's), granted to its group.

    `changes` set request fields (e.g. due_date, assigned_to); `flags` and `period`
    go to the material and the case (`period` only for a process whose cases have one).
    """
    unit = unit or template.unit
    case0, material0 = template.case, template.material
    flags = changes.pop("flags", material0.flags)
    data = dict(case0.data)
    if "period" in changes or "period" in data:
        data["period"] = changes.pop("period", data.get("period"))
    process = changes.pop("process", case0.process)
    cases = Case.objects.bulk_create(
        [
            Case(
                process=process,
                external_ref=f"{prefix}-{unit.code}-{i:05d}",
                unit=unit,
                status=Case.Status.AWAITING_DECISION,
                data=data,
                decision_mode=case0.decision_mode,
                public_authority=case0.public_authority,
                raw_body=case0.raw_body,
                payload=case0.payload,
                payload_sha256=case0.payload_sha256,
                received_by_id=case0.received_by_id,
            )
            for i in range(n)
        ]
    )
    materials = Material.objects.bulk_create(
        [
            Material(
                case=case,
                version=1,
                html=material0.html,
                sha256=material0.sha256,
                pdf=material0.pdf,
                pdf_sha256=material0.pdf_sha256,
                proposal=material0.proposal,
                summary=material0.summary,
                flags=flags,
                ruleset_version=material0.ruleset_version,
                authority_amount=material0.authority_amount,
                compiled_by=material0.compiled_by,
            )
            for case in cases
        ]
    )
    fields = {
        "decision_type": template.decision_type,
        "authority_amount": template.authority_amount,
        "due_date": template.due_date,
        **changes,
    }
    if "proposed_amount" in fields:
        fields["authority_amount"] = fields.pop("proposed_amount")
    parties = [(p.personnummer, p.role) for p in case0.parties.all()]
    CaseParty.objects.bulk_create(
        [
            CaseParty(case=case, personnummer=pnr, role=role)
            for case in cases
            for pnr, role in parties
        ]
    )
    requests = ApprovalRequest.objects.bulk_create(
        [
            ApprovalRequest(case=case, material=material, unit=unit, **fields)
            for case, material in zip(cases, materials, strict=True)
        ]
    )
    group, _ = Group.objects.get_or_create(name=unit_group_name(unit))
    perms = {
        p.codename: p
        for p in Permission.objects.filter(
            codename__in=["view_case", "view_approvalrequest", "sign_approvalrequest"]
        )
    }
    CaseGroupObjectPermission.objects.bulk_create(
        [
            CaseGroupObjectPermission(group=group, permission=perms["view_case"], content_object=c)
            for c in cases
        ]
    )
    ApprovalRequestGroupObjectPermission.objects.bulk_create(
        [
            ApprovalRequestGroupObjectPermission(
                group=group, permission=perms[codename], content_object=r
            )
            for r in requests
            for codename in ("view_approvalrequest", "sign_approvalrequest")
        ]
    )
    return requests


def days(n: int) -> timedelta:
    return timedelta(days=n)


def messages_compiled() -> None:
    """Compile the Swedish catalogue when the .mo is missing or older than the .po.

    `make test` compiles it first (the .mo is not committed); this keeps a bare
    `pytest` run from testing English pages by mistake.
    """
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command

    for locale_dir in settings.LOCALE_PATHS:
        po = Path(locale_dir) / "sv" / "LC_MESSAGES" / "django.po"
        mo = po.with_suffix(".mo")
        if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
            call_command("compilemessages", locale=["sv"], verbosity=0)
            # Catalogues are cached per process (by Django and by the gettext module);
            # drop them so the new one is read.
            import gettext

            from django.utils.translation import trans_real

            gettext._translations.clear()
            trans_real._translations = {}
            trans_real._default = None
