"""How the inbox scales: 100 000 open requests across 50 units, 5 000 in the caseworker's.

    python bench/inbox.py            # (make bench)

Builds the data with bulk_create in a separate PostgreSQL database
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/robotfabrik_bench,
dropped and created afresh unless --keep), then times the inbox page for Anna, a
caseworker, through the Django test client (whole request: middleware, session,
queries, template) with her inbox empty and full, and prints milliseconds, query
counts and the ratio full/empty. Material HTML and PDF are kept small here: the inbox
never loads them.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/robotfabrik_bench"
SMALL_INBOX = 60  # a little more than one page


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100_000, help="open requests in all")
    parser.add_argument("--mine", type=int, default=5_000, help="open requests in Anna's unit")
    parser.add_argument("--claimed", type=int, default=40, help="of those, claimed by Anna")
    parser.add_argument(
        "--history", type=int, default=20_000, help="decided requests in Anna's unit"
    )
    parser.add_argument("--runs", type=int, default=30, help="timed requests per measurement")
    parser.add_argument("--keep", action="store_true", help="reuse an existing bench database")
    parser.add_argument("--explain", action="store_true", help="print the plan of the row query")
    return parser.parse_args()


def _database(url: str, *, keep: bool) -> None:
    """Create (or with keep, reuse) the bench database; never touches any other."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    name = cfg["NAME"]
    if not name.endswith("_bench"):
        raise SystemExit(f"refusing to use {name!r}: the bench database name must end in _bench")
    admin = psycopg.connect(
        host=cfg["HOST"] or None,
        port=cfg["PORT"] or None,
        user=cfg["USER"] or None,
        password=cfg["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and keep:
            return
        if exists:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "municipality.settings")
    os.environ.setdefault("PREFECT_START_ON_COMMIT", "0")
    import django

    django.setup()


def _build(args) -> dict:
    """The organisation and the requests, with grants exactly as material_compile gives them."""
    from django.contrib.auth.models import Group, Permission, User
    from django.db import connection, transaction
    from django.utils import timezone

    from approvals.models import (
        ApprovalRequest,
        ApprovalRequestGroupObjectPermission,
        Case,
        CaseGroupObjectPermission,
        Decision,
        Material,
    )
    from municipality.demo import DECISION_TYPE_BISTAND, demo_organisation_load
    from municipality.models import Delegation, Process, Staff, Unit, unit_group_name

    org = demo_organisation_load()
    anna, home = org["users"]["anna"], org["unit"]
    process = Process.objects.get(slug="ekonomiskt-bistand")
    units = [home]
    for i in range(1, args.units):
        unit = Unit.objects.create(code=f"u{i:02d}", name=f"Enhet {i:02d}", committee="SN")
        group = Group.objects.create(name=unit_group_name(unit))
        worker = User.objects.create_user(f"handl{i:02d}")
        Staff.objects.create(user=worker, unit=unit, role=Staff.Role.CASEWORKER)
        worker.groups.add(group)
        units.append(unit)
    # A caseworker whose unit has nothing (an empty inbox once the data exists), and one
    # whose unit has a little more than one page (a small inbox: same 50 rows shown).
    extra = {}
    for code, username in (("tom", "idle"), ("liten", "small")):
        unit = Unit.objects.create(code=code, name=f"Enhet {code}", committee="SN")
        group = Group.objects.create(name=unit_group_name(unit))
        user = User.objects.create_user(username)
        Staff.objects.create(user=user, unit=unit, role=Staff.Role.CASEWORKER)
        user.groups.add(group)
        extra[username] = (user, unit)
    units.append(extra["small"][1])

    perms = {
        p.codename: p
        for p in Permission.objects.filter(
            codename__in=["view_case", "view_approvalrequest", "sign_approvalrequest"]
        )
    }
    groups = {u.pk: Group.objects.get(name=unit_group_name(u)) for u in units}
    today = timezone.localdate()
    now = timezone.now()
    html = "<html><body>" + "Beslutsunderlag. " * 100 + "</body></html>"
    flags = [
        {
            "code": "INCOME_DIFFERS_FROM_REGISTER",
            "income_type": "housing_allowance",
            "severity": "warning",
            "text": "Bostadsbidrag −23 % (2 400 → 1 850): ansökan → register",
            "origin": "register",
            "before": 2400,
            "after": 1850,
        }
    ]
    delegation = Delegation.objects.get(
        unit=home, decision_type=DECISION_TYPE_BISTAND, role=Staff.Role.CASEWORKER
    )
    small_unit = extra["small"][1]
    others = args.requests - args.mine - SMALL_INBOX
    rest = units[1:-1]
    plan = [(home, args.mine, "open"), (small_unit, SMALL_INBOX, "open")] + [
        (unit, others // len(rest) + (1 if i < others % len(rest) else 0), "open")
        for i, unit in enumerate(rest)
    ]
    if args.history:
        plan.append((home, args.history, "decided"))
    serial = 0
    batch = 5_000
    for unit, count, status in plan:
        for start in range(0, count, batch):
            size = min(batch, count - start)
            with transaction.atomic():
                cases = Case.objects.bulk_create(
                    [
                        Case(
                            process=process.slug,
                            external_ref=f"bench-{serial + i:07d}",
                            unit=unit,
                            status="decided" if status == "decided" else "awaiting_decision",
                            period="2026-03",
                            raw_body="{}",
                            application={"message": "Inget har ändrats."},
                            application_sha256="0" * 64,
                            subject_personnummer=f"19{(serial + i) % 10**10:010d}",
                            household_personnummer=[],
                            received_by=org["users"]["etjanst"],
                        )
                        for i in range(size)
                    ]
                )
                materials = Material.objects.bulk_create(
                    [
                        Material(
                            case=c,
                            version=1,
                            html=html,
                            sha256="a" * 64,
                            pdf=b"%PDF-1.4 bench",
                            pdf_sha256="b" * 64,
                            calculation={},
                            flags=flags if (serial + i) % 3 == 0 else [],
                            ruleset_version="riksnorm-2026",
                            proposed_amount=1000 + (serial + i) % 9000,
                            compiled_by="bench",
                        )
                        for i, c in enumerate(cases)
                    ]
                )
                requests = ApprovalRequest.objects.bulk_create(
                    [
                        ApprovalRequest(
                            case=c,
                            material=m,
                            unit=unit,
                            decision_type=process.decision_type,
                            proposed_amount=m.proposed_amount,
                            status=status,
                            due_date=today + timedelta(days=(serial + i) % 21 - 10),
                            assigned_to=(
                                anna
                                if unit == home and status == "open" and start + i < args.claimed
                                else None
                            ),
                        )
                        for i, (c, m) in enumerate(zip(cases, materials, strict=True))
                    ]
                )
                group = groups[unit.pk]
                CaseGroupObjectPermission.objects.bulk_create(
                    [
                        CaseGroupObjectPermission(
                            group=group, permission=perms["view_case"], content_object=c
                        )
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
                if status == "decided":
                    signed = now - timedelta(days=60)
                    Decision.objects.bulk_create(
                        [
                            Decision(
                                request=r,
                                outcome="approved",
                                amount=r.proposed_amount,
                                signer=anna,
                                signer_name="Anna Lind",
                                signer_title="Socialsekreterare",
                                delegation=delegation,
                                signed_at=signed,
                                material=r.material,
                                material_sha256="a" * 64,
                                material_opened_at=signed - timedelta(minutes=5),
                                followed_proposal=True,
                            )
                            for r in requests
                        ]
                    )
            serial += size
        print(f"  {unit.code}: {count:>6} {status}", flush=True)
    with connection.cursor() as cursor:
        # What autovacuum would have done by the time anyone reads the inbox.
        cursor.execute("VACUUM ANALYZE")
    return {"anna": anna, "idle": extra["idle"][0], "small": extra["small"][0]}


def _measure(user, params: dict, runs: int) -> tuple[float, float, int]:
    """Median and 90th percentile in ms, and the number of queries, for GET / with params."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    for _ in range(3):  # warm caches: templates, catalogues, connection
        assert client.get("/", params).status_code == 200
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get("/", params)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        client.get("/", params)
    timings.sort()
    p90 = timings[min(len(timings) - 1, int(len(timings) * 0.9))]
    return statistics.median(timings), p90, len(ctx.captured_queries)


def _explain(user) -> None:
    from django.db import connection

    from approvals import selectors

    qs = selectors.inbox_requests(
        user=user, tab=selectors.TAB_UNASSIGNED, filters=selectors.InboxFilters()
    )[:50]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print("\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    args = _parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    print(f"bench database: {url.rsplit('@', 1)[-1]}")
    _database(url, keep=args.keep)
    _setup(url)
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from approvals.models import ApprovalRequest

    call_command("migrate", verbosity=0)
    cases = [
        ("unit queue", {"tab": "unassigned"}),
        ("my cases", {"tab": "mine"}),
        ("queue, deviations+overdue", {"tab": "unassigned", "flags": ["deviations", "overdue"]}),
        ("queue, page 40", {"tab": "unassigned", "page": 40}),
        ("recently decided", {"tab": "decided"}),
    ]
    results = {}
    if not ApprovalRequest.objects.exists():
        from municipality.demo import demo_organisation_load

        anna = demo_organisation_load()["users"]["anna"]
        results["empty"] = {name: _measure(anna, p, args.runs) for name, p in cases}
        print(f"building {args.requests:,} open requests in {args.units} units ...", flush=True)
        started = time.perf_counter()
        users = _build(args)
        print(f"built in {time.perf_counter() - started:.0f} s")
    else:
        users = {
            "anna": User.objects.get(username="anna"),
            "idle": User.objects.get(username="idle"),
        }
    anna = users["anna"]
    results["full"] = {name: _measure(anna, p, args.runs) for name, p in cases}
    idle_ms, _, idle_queries = _measure(users["idle"], {"tab": "unassigned"}, args.runs)
    small_ms, _, small_queries = _measure(users["small"], {"tab": "unassigned"}, args.runs)

    total = ApprovalRequest.objects.filter(status="open").count()
    in_unit = ApprovalRequest.objects.filter(status="open", unit=anna.staff.unit).count()
    print(
        f"\nopen requests: {total:,} in all, {in_unit:,} in Anna's unit; "
        f"median of {args.runs} requests (p90), whole page through the test client\n"
    )
    header = f"{'view':<28}{'empty ms':>10}{'queries':>9}{'full ms':>10}{'p90':>8}{'queries':>9}"
    print(header + f"{'ratio':>8}")
    print("-" * (len(header) + 8))
    for name, _ in cases:
        full_ms, full_p90, full_q = results["full"][name]
        if "empty" in results:
            empty_ms, _, empty_q = results["empty"][name]
            print(
                f"{name:<28}{empty_ms:>10.1f}{empty_q:>9}{full_ms:>10.1f}{full_p90:>8.1f}"
                f"{full_q:>9}{full_ms / empty_ms:>8.2f}"
            )
        else:
            print(f"{name:<28}{'–':>10}{'–':>9}{full_ms:>10.1f}{full_p90:>8.1f}{full_q:>9}")
    print(
        f"{'empty unit, full database':<28}{'':>10}{'':>9}{idle_ms:>10.1f}{'':>8}{idle_queries:>9}"
    )
    print(
        f"{f'queue of {SMALL_INBOX}, full database':<28}{'':>10}{'':>9}{small_ms:>10.1f}"
        f"{'':>8}{small_queries:>9}"
    )
    full_ms = results["full"]["unit queue"][0]
    print(
        f"\nunit queue with {in_unit:,} requests vs {SMALL_INBOX} (both a full page of 50 rows): "
        f"{full_ms / small_ms:.2f}x; vs an empty unit: {full_ms / idle_ms:.2f}x"
    )
    if args.explain:
        print()
        _explain(anna)


if __name__ == "__main__":
    main()
