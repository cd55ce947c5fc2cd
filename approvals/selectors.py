"""Reads that feed pages. Querysets only; no rules, no writes."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import Permission, User
from django.core.paginator import Page, Paginator
from django.db.models import Case as DbCase
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from municipality.models import Staff

from .audit import ACCESS_KINDS
from .models import (
    ApprovalRequest,
    ApprovalRequestGroupObjectPermission,
    ApprovalRequestUserObjectPermission,
    AuditEvent,
    Case,
    CaseParty,
    Decision,
    RegisterSnapshot,
)
from .registry import ProcessSpec, registry

# --- the caseworker's inbox ------------------------------------------------------------

INBOX_PAGE_SIZE = 50
RECENT_DECISION_DAYS = 30

TAB_MINE = "mine"
TAB_UNASSIGNED = "unassigned"
TAB_RETURNED = "returned"
TAB_SECOND = "second"
TAB_DECIDED = "decided"
INBOX_TABS = (TAB_MINE, TAB_UNASSIGNED, TAB_RETURNED, TAB_SECOND, TAB_DECIDED)

SORT_DUE = "due"
SORT_NEWEST = "newest"
SORT_AMOUNT = "amount"
INBOX_SORTS = (SORT_DUE, SORT_NEWEST, SORT_AMOUNT)

FLAG_DEVIATIONS = "deviations"
FLAG_OVERDUE = "overdue"

# Only what an inbox row shows: the material's HTML and PDF, the raw application and
# the personnummer fields are never loaded for a list.
_ROW_FIELDS = (
    "id",
    "status",
    "due_date",
    "authority_amount",
    "kind",
    "created_at",
    "unit_id",
    "case__id",
    "case__external_ref",
    "case__process",
    "case__data",
    "case__status",
    "material__id",
    "material__version",
    "material__flags",
    "material__summary",
    "assigned_to__id",
    "assigned_to__username",
    "assigned_to__first_name",
    "assigned_to__last_name",
)
_DECISION_FIELDS = (
    "decision__id",
    "decision__outcome",
    "decision__authority_amount",
    "decision__decided",
    "decision__motivation",
    "decision__signer_name",
    "decision__signed_at",
)


@dataclass(frozen=True)
class InboxFilters:
    """What the caseworker narrowed the list to; empty values mean "all"."""

    process: str = ""
    period: str = ""
    due_by: date | None = None
    deviations: bool = False
    overdue: bool = False
    sort: str = SORT_DUE

    @property
    def active(self) -> bool:
        return bool(self.process or self.period or self.due_by or self.deviations or self.overdue)


def requests_visible_to(*, user, per_row: bool = False) -> QuerySet[ApprovalRequest]:
    """Requests of the user's unit that a grant lets the user see.

    The grant (group or direct, read from the grant tables, never through the
    superuser shortcut) is the authority. The unit condition mirrors the gate, which
    lets only staff of the request's unit sign, and lets PostgreSQL walk the
    (unit, status, due_date) index.

    Two equivalent forms of the grant check. The default (EXISTS) lets PostgreSQL
    hash the user's grants once: best for counting a whole tab. `per_row` asks per
    request with a one-row subquery, which cannot be hashed: best for one sorted
    page, since the index walk then stops after the page instead of first reading
    every grant the unit ever received.
    """
    # Scalar subqueries, each computed once per query (InitPlan), so that PostgreSQL
    # treats the unit, the permission and the user's groups as known values.
    unit = Staff.objects.filter(user_id=user.pk).values("unit_id")[:1]
    permission = Permission.objects.filter(
        codename="view_approvalrequest", content_type__app_label="approvals"
    ).values("pk")[:1]
    groups = User.groups.through.objects.filter(user_id=user.pk).values("group_id")
    via_group = ApprovalRequestGroupObjectPermission.objects.filter(
        content_object=OuterRef("pk"), permission_id=Subquery(permission), group_id__in=groups
    )
    direct = ApprovalRequestUserObjectPermission.objects.filter(
        content_object=OuterRef("pk"), permission_id=Subquery(permission), user_id=user.pk
    )
    # Nothing grants requests to single users today; when nobody has granted this user
    # anything directly, leaving that branch out lets PostgreSQL use a semi-join.
    has_direct = (
        ApprovalRequestUserObjectPermission.objects.filter(
            user_id=user.pk, permission_id=Subquery(permission)
        ).exists()
        if user.pk
        else False
    )
    qs = ApprovalRequest.objects.filter(unit_id=Subquery(unit))
    if per_row:
        qs = qs.alias(grant_via_group=Subquery(via_group.values("pk")[:1]))
        granted = Q(grant_via_group__isnull=False)
        if has_direct:
            qs = qs.alias(grant_direct=Subquery(direct.values("pk")[:1]))
            granted |= Q(grant_direct__isnull=False)
        return qs.filter(granted)
    return qs.filter(Exists(via_group) | Exists(direct) if has_direct else Exists(via_group))


def inbox_requests(
    *, user, tab: str, filters: InboxFilters, today: date | None = None, per_row: bool = False
) -> QuerySet[ApprovalRequest]:
    """One tab of the inbox, filtered and sorted; page it, then read the rows with inbox_rows.

    Kept free of joins that only display needs, so that PostgreSQL picks the page's
    ids from the request table's indexes before anything is joined.
    """
    today = today or timezone.localdate()
    qs = requests_visible_to(user=user, per_row=per_row)
    if tab == TAB_MINE:
        qs = qs.filter(status=ApprovalRequest.Status.OPEN, assigned_to=user)
    elif tab == TAB_UNASSIGNED:
        qs = qs.filter(status=ApprovalRequest.Status.OPEN, assigned_to__isnull=True)
    elif tab == TAB_SECOND:
        qs = qs.filter(status=ApprovalRequest.Status.AWAITING_SECOND)
    elif tab == TAB_RETURNED:
        later = ApprovalRequest.objects.filter(case=OuterRef("case"), pk__gt=OuterRef("pk"))
        qs = qs.filter(
            status=ApprovalRequest.Status.DECIDED,
            decision__outcome=Decision.Outcome.RETURNED,
            case__status=Case.Status.RETURNED,
        ).exclude(Exists(later))
    elif tab == TAB_DECIDED:
        since = timezone.now() - timedelta(days=RECENT_DECISION_DAYS)
        qs = qs.filter(status=ApprovalRequest.Status.DECIDED, decision__signed_at__gte=since)
    else:
        return ApprovalRequest.objects.none()
    if filters.process:
        qs = qs.filter(case__process=filters.process)
    if filters.period:
        # Processes that work per month keep it in the case's data (e.g. bistånd's period).
        qs = qs.filter(case__data__period=filters.period)
    if filters.due_by:
        qs = qs.filter(due_date__lte=filters.due_by)
    if filters.deviations:
        qs = qs.exclude(material__flags=[])
    if filters.overdue:
        qs = qs.filter(due_date__lt=today)
    if tab in (TAB_RETURNED, TAB_DECIDED):
        return qs.order_by("-decision__signed_at", "-pk")
    if filters.sort == SORT_NEWEST:
        return qs.order_by("-created_at", "-pk")
    if filters.sort == SORT_AMOUNT:
        return qs.order_by("-authority_amount", "due_date", "pk")
    return qs.order_by("due_date", "pk")


def inbox_rows(*, page_ids: QuerySet, tab: str) -> list[ApprovalRequest]:
    """The rows of one inbox page, with only the columns a row shows, in the page's order.

    `page_ids` is one page (a slice) of inbox_requests(...).values_list("pk"); it runs
    as a subquery, so the page costs one query whatever the number of cases.
    """
    fields = _ROW_FIELDS
    qs = ApprovalRequest.objects.filter(pk__in=page_ids).select_related(
        "case", "material", "assigned_to"
    )
    if tab in (TAB_SECOND, TAB_RETURNED, TAB_DECIDED):
        qs = qs.select_related("decision")
        fields += _DECISION_FIELDS
    # The applicant's name in the same query (a one-row subquery per row of the page).
    return list(
        qs.only(*fields)
        .annotate(applicant_name=applicant_name_subquery())
        .order_by(*page_ids.query.order_by)
    )


def applicant_name_subquery() -> Subquery:
    """The first party's name of a request's case: the applicant's, else the first one's."""
    return Subquery(
        CaseParty.objects.filter(case_id=OuterRef("case_id"))
        .order_by(DbCase(When(role=CaseParty.APPLICANT, then=Value(0)), default=Value(1)), "id")
        .values("name")[:1]
    )


def applicant_names(*, case_ids: list[int]) -> dict[int, str]:
    """The first party's (the applicant's) name per case, in one query: the name column only."""
    names: dict[int, str] = {}
    applicants: set[int] = set()
    parties = (
        CaseParty.objects.filter(case_id__in=case_ids)
        .order_by("case_id", "id")
        .values_list("case_id", "role", "name")
    )
    for case_id, role, name in parties:
        if role == CaseParty.APPLICANT and case_id not in applicants:
            names[case_id] = name
            applicants.add(case_id)
        elif case_id not in names:
            names[case_id] = name
    return names


def inbox_page(
    *, user, tab: str, filters: InboxFilters, number, counts: dict, today: date | None = None
) -> Page:
    """One page of a tab: its ids picked per row in index order, then its rows read.

    The tab's size comes from `counts` when nothing is filtered (no second count).
    A filtered tab is counted per row too: with joins to the case or the material,
    PostgreSQL otherwise tends to start from every grant the unit ever received.
    """
    requests = inbox_requests(user=user, tab=tab, filters=filters, today=today, per_row=True)
    paginator = Paginator(requests.values_list("pk", flat=True), INBOX_PAGE_SIZE)
    if not filters.active and tab in counts:
        paginator.count = counts[tab]
    page = paginator.get_page(number)
    page.object_list = inbox_rows(page_ids=page.object_list, tab=tab) if paginator.count else []
    return page


def inbox_counts(*, user, today: date | None = None) -> dict[str, int]:
    """How many requests wait in each working tab, in one query; plus the returned cases."""
    today = today or timezone.localdate()
    visible = requests_visible_to(user=user)
    open_ = Q(status=ApprovalRequest.Status.OPEN)
    counts = visible.filter(
        status__in=[ApprovalRequest.Status.OPEN, ApprovalRequest.Status.AWAITING_SECOND]
    ).aggregate(
        mine=Count("pk", filter=open_ & Q(assigned_to=user)),
        unassigned=Count("pk", filter=open_ & Q(assigned_to__isnull=True)),
        second=Count("pk", filter=Q(status=ApprovalRequest.Status.AWAITING_SECOND)),
        overdue_mine=Count("pk", filter=open_ & Q(assigned_to=user, due_date__lt=today)),
        overdue_unassigned=Count(
            "pk", filter=open_ & Q(assigned_to__isnull=True, due_date__lt=today)
        ),
    )
    return counts


def inbox_processes(*, user) -> list[tuple[str, str]]:
    """(slug, name) of the registered processes the user's unit handles, for the filter and rows."""
    unit_code = Staff.objects.filter(user_id=user.pk).values_list("unit__code", flat=True).first()
    return sorted(
        ((p.slug, str(p.name)) for p in registry.all() if p.unit_code == unit_code),
        key=lambda item: item[1],
    )


# --- the case page -----------------------------------------------------------------------


def register_snapshot_latest(*, case: Case) -> RegisterSnapshot | None:
    return RegisterSnapshot.objects.filter(case=case).order_by("-fetched_at", "-id").first()


def decision_previous_for_applicant(*, case: Case) -> Decision | None:
    """The latest executed decision on an earlier case of the same applicant and process."""
    return (
        Decision.objects.filter(
            request__case__process=case.process,
            request__case__parties__role=CaseParty.APPLICANT,
            request__case__parties__personnummer=case.applicant_personnummer,
            request__case__unit_id=case.unit_id,
            executed_at__isnull=False,
        )
        .exclude(request__case=case)
        .exclude(outcome=Decision.Outcome.RETURNED)
        .select_related("request__case")
        .only(
            "id",
            "outcome",
            "authority_amount",
            "decided",
            "signer_name",
            "signed_at",
            "motivation",
            "material",
            "request__id",
            "request__case__id",
            "request__case__data",
            "request__case__external_ref",
        )
        .order_by("-signed_at")
        .first()
    )


def process_for(*, case: Case) -> ProcessSpec | None:
    return registry.get(case.process)


# Reads of the case are on the audit pages; the caseworker's history shows what happened.
_READ_KINDS = ACCESS_KINDS


def case_history(*, case: Case) -> QuerySet[AuditEvent]:
    """What happened to the case, oldest first, without the log of who read it."""
    return (
        AuditEvent.objects.filter(case=case)
        .exclude(kind__in=_READ_KINDS)
        .select_related("actor")
        .only(
            "id",
            "seq",
            "kind",
            "actor_label",
            "created_at",
            "data",
            "actor__id",
            "actor__username",
            "actor__first_name",
            "actor__last_name",
        )
        .order_by("seq")
    )


# --- the team leader's view --------------------------------------------------------------


@dataclass(frozen=True)
class WorkerLoad:
    user: User
    open: int
    overdue: int


def team_requests(*, user) -> list[ApprovalRequest]:
    """Every open request of the team leader's unit (theirs and everyone's), due first.

    Reassigning a request keeps it here: the list is the unit's, not the leader's.
    """
    rows = list(
        requests_visible_to(user=user)
        .filter(status__in=[ApprovalRequest.Status.OPEN, ApprovalRequest.Status.AWAITING_SECOND])
        .select_related("case", "material", "assigned_to")
        .only(*_ROW_FIELDS)
        .order_by("due_date", "pk")
    )
    names = applicant_names(case_ids=[r.case_id for r in rows])
    for row in rows:
        row.applicant_name = names.get(row.case_id, "")
    return rows


def team_load(*, requests: list[ApprovalRequest], workers: list, today: date) -> list[WorkerLoad]:
    """Each caseworker's open requests and how many are overdue (unassigned ones as None)."""
    counts: dict[int | None, list[int]] = {w.pk: [0, 0] for w in workers}
    counts[None] = [0, 0]
    for r in requests:
        if r.status != ApprovalRequest.Status.OPEN:
            continue
        entry = counts.setdefault(r.assigned_to_id, [0, 0])
        entry[0] += 1
        if r.due_date is not None and r.due_date < today:
            entry[1] += 1
    loads = [WorkerLoad(w, *counts[w.pk]) for w in workers]
    return loads + [WorkerLoad(None, *counts[None])]


# --- the next case after signing ---------------------------------------------------------


def next_request(*, user, after_case_id: int | None = None) -> ApprovalRequest | None:
    """The next request in the caseworker's order: their own cases, then the unit queue,
    each in the inbox's order (due date first); never the case just decided."""
    for tab in (TAB_MINE, TAB_UNASSIGNED):
        qs = inbox_requests(user=user, tab=tab, filters=InboxFilters())
        if after_case_id is not None:
            qs = qs.exclude(case_id=after_case_id)
        found = qs.only("id", "case_id").first()
        if found is not None:
            return found
    return None


# --- what the case's status honestly is ----------------------------------------------------

STATUS_SECOND_PENDING = "second_pending"
STATUS_LETTER_PENDING = "letter_pending"
STATUS_DECIDED = "decided"


def case_display_status(*, case: Case, active, decisions: list[Decision]) -> str:
    """The status a person reads: the case's own, unless a signature already moved it on.

    After signing the case waits for the robot: "decided, the letter is being written"
    until the decision's letter exists; with a second signature pending it says so.
    """
    if active is not None and active.status == ApprovalRequest.Status.AWAITING_SECOND:
        return STATUS_SECOND_PENDING
    if active is not None:
        return case.status
    standing = [
        d
        for d in decisions
        if d.outcome != Decision.Outcome.RETURNED
        and d.request.status == ApprovalRequest.Status.DECIDED
    ]
    if not standing:
        return case.status
    latest = standing[-1]
    if not any(doc.kind == "decision_letter" for doc in latest.documents.all()):
        return STATUS_LETTER_PENDING
    return STATUS_DECIDED
