"""Reads that feed the auditor's pages. No rules, no writes.

Filters arrive as plain dicts (the pages' GET parameters, already validated by the
page's form), so the same functions serve pages, exports and tests.
"""

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from .audit import ACCESS_KINDS, Kind
from .models import AuditEvent, Case, Cosignature, Decision

QUICK_SIGN_SECONDS = 30


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _signed_between(qs: QuerySet, field: str, filters: dict) -> QuerySet:
    if filters.get("signed_from"):
        qs = qs.filter(**{f"{field}__gte": _day_start(filters["signed_from"])})
    if filters.get("signed_to"):
        qs = qs.filter(**{f"{field}__lt": _day_start(filters["signed_to"] + timedelta(days=1))})
    return qs


def decision_search(*, filters: dict) -> QuerySet[Decision]:
    """Decisions by signing date, month applied for, process, unit, decision-maker,
    outcome and whether the proposal was changed, newest first."""
    qs = Decision.objects.select_related(
        "request__case",
        "request__unit",
        "signer",
        "on_behalf_of",
        "delegation",
        "cosignature",
    ).annotate(
        review_time=ExpressionWrapper(
            F("signed_at") - F("material_opened_at"), output_field=DurationField()
        )
    )
    qs = _signed_between(qs, "signed_at", filters)
    if filters.get("period"):
        qs = qs.filter(request__case__data__period=filters["period"])
    if filters.get("process"):
        qs = qs.filter(request__case__process=filters["process"])
    if filters.get("unit"):
        qs = qs.filter(request__unit__code=filters["unit"])
    if filters.get("signer"):
        qs = qs.filter(
            Q(signer__username=filters["signer"])
            | Q(cosignature__signer__username=filters["signer"])
        )
    if filters.get("outcome"):
        qs = qs.filter(outcome=filters["outcome"])
    if filters.get("changed"):
        qs = qs.filter(followed_proposal=False)
    return qs.order_by("-signed_at", "-pk")


def case_timeline(*, case: Case) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(case=case).select_related("actor", "material").order_by("seq")


@dataclass(frozen=True)
class ReviewEvidence:
    """What shows that a signer reviewed the material, for one signature."""

    role: str  # "first" or "second"
    signer_name: str
    signer_title: str
    on_behalf_of: str
    delegation_reference: str
    opened_at: datetime
    signed_at: datetime
    seconds_open_to_sign: int
    material_views_before_signing: int
    material_sha256: str


def decision_evidence(*, decision: Decision) -> list[ReviewEvidence]:
    """The review evidence of a decision's signature(s), read from the decision and the trail."""
    signatures = [("first", decision)]
    cosignature = Cosignature.objects.filter(decision=decision).select_related(
        "on_behalf_of", "delegation"
    )
    signatures += [("second", c) for c in cosignature]
    evidence = []
    for role, signature in signatures:
        views = AuditEvent.objects.filter(
            kind=Kind.MATERIAL_VIEWED,
            actor_id=signature.signer_id,
            material_id=decision.material_id,
            created_at__lte=signature.signed_at,
        ).count()
        on_behalf = signature.on_behalf_of
        evidence.append(
            ReviewEvidence(
                role=role,
                signer_name=signature.signer_name,
                signer_title=signature.signer_title,
                on_behalf_of=(on_behalf.get_full_name() or on_behalf.get_username())
                if on_behalf
                else "",
                delegation_reference=(
                    signature.delegation.reference or str(signature.delegation_id)
                )
                if signature.delegation_id
                else "",
                opened_at=signature.material_opened_at,
                signed_at=signature.signed_at,
                seconds_open_to_sign=int(
                    (signature.signed_at - signature.material_opened_at).total_seconds()
                ),
                material_views_before_signing=views,
                material_sha256=signature.material_sha256,
            )
        )
    return evidence


def case_decisions(*, case: Case) -> list[tuple[Decision, list[ReviewEvidence]]]:
    decisions = (
        Decision.objects.filter(request__case=case)
        .select_related("request", "material", "delegation", "on_behalf_of")
        .order_by("signed_at", "pk")
    )
    return [(d, decision_evidence(decision=d)) for d in decisions]


def access_log(*, filters: dict) -> QuerySet[AuditEvent]:
    """Reads of case data (case, material, letter), newest first.

    With `unassigned_only`, only reads made without an open assignment and not as
    an audit: the ones a reviewer must look at.
    """
    qs = AuditEvent.objects.filter(kind__in=ACCESS_KINDS).select_related("actor", "case")
    qs = _signed_between(qs, "created_at", filters)
    if filters.get("actor"):
        qs = qs.filter(actor__username=filters["actor"])
    if filters.get("case"):
        qs = qs.filter(case_id=filters["case"])
    if filters.get("unassigned_only"):
        qs = qs.filter(
            Q(data__open_assignment=False) & ~Q(data__purpose="audit")
            | Q(data__conflict_of_interest=True)
        )
    return qs.order_by("-seq")


def access_is_flagged(event: AuditEvent) -> bool:
    """A read without an open assignment that was not an audit read, or a read by someone
    the case is about (conflict of interest), whatever their assignment."""
    if event.data.get("conflict_of_interest"):
        return True
    return not event.data.get("open_assignment") and event.data.get("purpose") != "audit"


@dataclass(frozen=True)
class ReviewStatistics:
    """How one person signs: review time, speed and how often they depart from the proposal."""

    username: str
    name: str
    decisions: int
    median_seconds: float | None
    quick_share: float | None
    override_rate: float | None
    second_signatures: int
    second_median_seconds: float | None
    second_quick_share: float | None


def _seconds(signed_at: datetime, opened_at: datetime) -> float:
    return (signed_at - opened_at).total_seconds()


def _share(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def review_statistics(
    *, filters: dict, quick_seconds: int = QUICK_SIGN_SECONDS
) -> list[ReviewStatistics]:
    """Per decision-maker: median seconds from first material view to signing, share
    signed within `quick_seconds` of opening, and override rate (share of decisions
    that did not follow the robot's proposal); the same for second signatures."""
    decisions = _signed_between(Decision.objects.all(), "signed_at", filters)
    cosignatures = _signed_between(Cosignature.objects.all(), "signed_at", filters)
    if filters.get("unit"):
        decisions = decisions.filter(request__unit__code=filters["unit"])
        cosignatures = cosignatures.filter(decision__request__unit__code=filters["unit"])
    first: dict[int, list] = {}
    names: dict[int, tuple[str, str]] = {}
    for row in decisions.values(
        "signer_id",
        "signer__username",
        "signer_name",
        "signed_at",
        "material_opened_at",
        "followed_proposal",
    ):
        names[row["signer_id"]] = (row["signer__username"], row["signer_name"])
        first.setdefault(row["signer_id"], []).append(
            (_seconds(row["signed_at"], row["material_opened_at"]), row["followed_proposal"])
        )
    second: dict[int, list[float]] = {}
    for row in cosignatures.values(
        "signer_id", "signer__username", "signer_name", "signed_at", "material_opened_at"
    ):
        names.setdefault(row["signer_id"], (row["signer__username"], row["signer_name"]))
        second.setdefault(row["signer_id"], []).append(
            _seconds(row["signed_at"], row["material_opened_at"])
        )
    result = []
    for user_id, (username, name) in sorted(names.items(), key=lambda item: item[1][0]):
        own = first.get(user_id, [])
        seconds = [s for s, _followed in own]
        cosigned = second.get(user_id, [])
        result.append(
            ReviewStatistics(
                username=username,
                name=name,
                decisions=len(own),
                median_seconds=statistics.median(seconds) if seconds else None,
                quick_share=_share([s <= quick_seconds for s in seconds]),
                override_rate=_share([not followed for _s, followed in own]),
                second_signatures=len(cosigned),
                second_median_seconds=statistics.median(cosigned) if cosigned else None,
                second_quick_share=_share([s <= quick_seconds for s in cosigned]),
            )
        )
    return result
