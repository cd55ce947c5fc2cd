"""Run the whole product locally: Prefect, the flow runner, the outbox worker and the web app."""

import json
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from municipality import runtime
from municipality.demo import DEMO_INTEGRATION_TOKEN, DEMO_PASSWORD, demo_organisation_load

DEMO_APPLICATIONS = Path(settings.BASE_DIR) / "data" / "demo_applications"


class Command(BaseCommand):
    help = "Start the demo on http://127.0.0.1:8000 with Prefect on :4200. Ctrl-C stops everything."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--prefect-port", type=int, default=4200)
        parser.add_argument(
            "--no-submit", action="store_true", help="Do not submit demo applications."
        )
        parser.add_argument(
            "--exit-after-submit",
            action="store_true",
            help="Stop once the demo applications are waiting for a human (smoke test).",
        )

    def handle(self, *args, port, prefect_port, no_submit, exit_after_submit, **options):
        state = Path(settings.STATE_DIR)
        logs = state / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        self.org = demo_organisation_load()
        # This process only prepares; the outbox worker delivers every start to Prefect.
        settings.PREFECT_START_ON_COMMIT = False
        env = {
            **runtime.prefect_env(home=state / "prefect", port=prefect_port),
            **runtime.database_env(),
        }
        procs = []

        def shutdown(*_):
            for proc in reversed(procs):
                runtime.stop(proc)
            self.stdout.write("Stopped every process the demo started.")
            sys.exit(0)

        signal.signal(signal.SIGINT, shutdown)
        signal.signal(signal.SIGTERM, shutdown)
        try:
            self.stdout.write(
                f"Starting Prefect server on :{prefect_port} (log {logs / 'prefect.log'})"
            )
            server = runtime.start_prefect_server(env=env, log=logs / "prefect.log")
            procs.append(server)
            runtime.wait_for_http(
                f"http://127.0.0.1:{prefect_port}/api/health", proc=server, timeout=120
            )
            self.stdout.write(
                f"Starting the flow runner ({runtime.flow_executor()} executor, every "
                "registered process)"
            )
            procs.append(runtime.start_flow_runner(env=env, log=logs / "flows.log"))
            procs.append(
                runtime.start(
                    [
                        sys.executable,
                        "manage.py",
                        "deliver_prefect_commands",
                        "--loop",
                        "--interval",
                        "0.5",
                    ],
                    env=runtime.child_env(env),
                    log=logs / "outbox.log",
                )
            )
            procs.append(
                runtime.start(
                    [sys.executable, "manage.py", "audit_anchor", "--every", "300"],
                    env=runtime.child_env(env),
                    log=logs / "anchors.log",
                )
            )
            procs.append(
                runtime.start(
                    [sys.executable, "manage.py", "robot_watchdog", "--every", "60"],
                    env=runtime.child_env(env),
                    log=logs / "watchdog.log",
                )
            )
            procs.append(
                runtime.start(
                    [sys.executable, "manage.py", "send_reminders", "--every", "3600"],
                    env=runtime.child_env(env),
                    log=logs / "reminders.log",
                )
            )
            self.stdout.write(f"Starting the web app on http://127.0.0.1:{port}")
            web = runtime.start(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                # Intake stores and answers; the outbox worker starts the robots, so an
                # answer never waits for a busy or absent Prefect.
                env=runtime.child_env({**env, "DJANGO_DEBUG": "1", "PREFECT_START_ON_COMMIT": "0"}),
                log=logs / "web.log",
            )
            procs.append(web)
            runtime.wait_for_http(f"http://127.0.0.1:{port}/accounts/login/", proc=web)
            if not no_submit:
                self._submit_demo(port)
                self._start_robots(port)
            self._print_logins(port, prefect_port)
            if exit_after_submit:
                self._wait_for_open_requests()
                shutdown()
            while True:
                for proc in procs:
                    if proc.poll() is not None:
                        self.stderr.write(f"{proc.args[:4]} exited ({proc.returncode}); see {logs}")
                        shutdown()
                time.sleep(1)
        except Exception:
            for proc in reversed(procs):
                runtime.stop(proc)
            raise

    def _submit_demo(self, port: int) -> None:
        for path in sorted(DEMO_APPLICATIONS.glob("*.json")):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/applications/",
                data=path.read_bytes(),
                headers={
                    "Authorization": f"Bearer {DEMO_INTEGRATION_TOKEN}",
                    "Content-Type": "application/json",
                },
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    body = json.loads(response.read())
                    self.stdout.write(
                        f"  {path.name}: {response.status} case {body['id']} ({body['status']})"
                    )
            except urllib.error.HTTPError as exc:
                self.stdout.write(f"  {path.name}: {exc.code} {exc.read()[:300]!r}")

    def _start_robots(self, port: int) -> None:
        """Each process's own demo start (hook demo_start): a scan, an import, a request."""
        from approvals.registry import registry

        for spec in registry.all():
            start = spec.hook("demo_start")
            if start is None:
                continue
            try:
                for line in start(base_url=f"http://127.0.0.1:{port}") or []:
                    self.stdout.write(f"  {spec.slug}: {line}")
            except Exception as exc:  # noqa: BLE001 - one robot's demo must not stop the rest
                self.stdout.write(f"  {spec.slug}: demo start failed: {exc}")

    def _wait_for_open_requests(self, timeout: float = 240) -> None:
        from django.db.models import Count

        from approvals.models import ApprovalRequest, Case

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            waiting = Case.objects.exclude(
                status__in=[
                    "awaiting_decision",
                    "awaiting_person",
                    "decided",
                    "returned",
                    "completed",
                ]
            ).count()
            if waiting == 0:
                break
            time.sleep(2)
        open_requests = ApprovalRequest.objects.filter(status="open")
        by_process = ", ".join(
            f"{row['case__process']} {row['n']}"
            for row in open_requests.values("case__process").annotate(n=Count("pk")).order_by(
                "case__process"
            )
        )
        self.stdout.write(f"Open approval requests: {open_requests.count()} ({by_process})")

    def _print_logins(self, port: int, prefect_port: int) -> None:
        self.stdout.write(self.style.SUCCESS(f"\nRobotfabrik demo: http://127.0.0.1:{port}/"))
        self.stdout.write(
            "  Auditor: greta (/audit/) · Process owner: otto (/operations/) · Unit admin: ulla "
            f"(/admin/) · password {DEMO_PASSWORD}"
        )
        from municipality.models import Staff

        for slug, unit in sorted(self.org["units"].items()):
            people = Staff.objects.filter(unit=unit, kind=Staff.Kind.HUMAN).select_related("user")
            names = ", ".join(
                f"{s.user.username} ({s.title or s.get_role_display()})" for s in people
            )
            self.stdout.write(f"  {slug} — {unit.name}: {names}")
        self.stdout.write(f"  Integration token (e-tjänst): {DEMO_INTEGRATION_TOKEN}")
        self.stdout.write(
            f"  Prefect UI: http://127.0.0.1:{prefect_port}/ (its login is the credential in "
            f"{Path(settings.STATE_DIR) / 'prefect' / 'api-auth'})  ·  "
            f"API docs: http://127.0.0.1:{port}/api/v1/docs"
        )
        self.stdout.write("  Ctrl-C stops every process.\n")
