"""Finding a case by the applicant's name, personnummer or the case's reference.

Within what the user may see: a caseworker's search covers the cases of their unit
whose view grant they hold (the grant given to the unit's group at intake); an
auditor's covers every case. Every search is logged (who searched for what), and
so is every hit shown, as a read of that case (approvals.access.case_access_record).
"""

from dataclasses import dataclass

from django.contrib.auth.models import Permission, User
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from municipality.models import Staff
from municipality.personnummer import PersonnummerError, parse_personnummer

from .access import case_access_record
from .audit import Kind, actor_label_for, audit_append
from .models import Case, CaseGroupObjectPermission, CaseParty, CaseUserObjectPermission

SEARCH_LIMIT = 50
MIN_QUERY_LENGTH = 2


@dataclass(frozen=True)
class SearchQuery:
    """What was typed, read as a personnummer when it is one (any of its written forms)."""

    text: str
    personnummer: str = ""

    @classmethod
    def parse(cls, raw: str) -> "SearchQuery":
        text = " ".join((raw or "").split())[:200]
        try:
            return cls(text, parse_personnummer(text).canonical)
        except (PersonnummerError, ValueError):
            return cls(text)

    @property
    def usable(self) -> bool:
        return len(self.text) >= MIN_QUERY_LENGTH


def cases_visible_to(user) -> QuerySet[Case]:
    """Cases of the user's unit whose view grant the user holds (group or direct)."""
    unit = Staff.objects.filter(user_id=user.pk).values("unit_id")[:1]
    permission = Permission.objects.filter(
        codename="view_case", content_type__app_label="approvals"
    ).values("pk")[:1]
    groups = User.groups.through.objects.filter(user_id=user.pk).values("group_id")
    via_group = CaseGroupObjectPermission.objects.filter(
        content_object=OuterRef("pk"), permission_id=Subquery(permission), group_id__in=groups
    )
    direct = CaseUserObjectPermission.objects.filter(
        content_object=OuterRef("pk"), permission_id=Subquery(permission), user_id=user.pk
    )
    if not user.is_active:
        return Case.objects.none()
    return Case.objects.filter(unit_id=Subquery(unit)).filter(Exists(via_group) | Exists(direct))


def _matching(qs: QuerySet[Case], query: SearchQuery) -> QuerySet[Case]:
    if query.personnummer:
        return qs.filter(parties__personnummer=query.personnummer).distinct()
    words = query.text.split()
    by_name = Q()
    for word in words:
        by_name &= Q(parties__name__icontains=word)
    return qs.filter(Q(external_ref__icontains=query.text) | by_name).distinct()


def case_search(*, user, raw: str, audit: bool = False) -> tuple[SearchQuery, list[Case]]:
    """Search, log the search and each hit shown, and return the hits (newest first).

    `audit` is the auditor's search: every case, logged with the audit purpose. The
    caller has checked that the user may use the auditor's pages.
    """
    query = SearchQuery.parse(raw)
    if not query.usable:
        return query, []
    base = Case.objects.all() if audit else cases_visible_to(user)
    hits = list(
        _matching(base, query)
        .select_related("unit")
        .prefetch_related(Prefetch("parties", CaseParty.objects.only("case_id", "name", "role")))
        .only("id", "process", "external_ref", "status", "received_at", "data", "unit__name")
        .order_by("-received_at", "-pk")[:SEARCH_LIMIT]
    )
    purpose = "audit" if audit else "casework"
    audit_append(
        kind=Kind.CASES_SEARCHED,
        actor=user,
        actor_label=actor_label_for(user),
        data={
            "query": query.text,
            "as_personnummer": bool(query.personnummer),
            "hits": [c.pk for c in hits],
            "purpose": purpose,
        },
    )
    for case in hits:
        case_access_record(
            user=user,
            case=case,
            what="audit_search_hit" if audit else "search_hit",
            purpose=purpose,
        )
    return query, hits


def applicant_name(case: Case) -> str:
    """The first party's name (the applicant's), as the inbox and the search show it."""
    parties = list(case.parties.all())
    applicant = next((p for p in parties if p.role == CaseParty.APPLICANT), None)
    first = applicant or (parties[0] if parties else None)
    return first.name if first else ""
