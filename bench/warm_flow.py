"""The bench's representative case: three tasks, a suspend for a typed decision, one task.

Like the product's flow it sets Django up at import and renders a small document with
WeasyPrint in one task; it returns hashes only. Served the old way with

    python bench/warm_flow.py          # serve(): a fresh interpreter per run (baseline)

and the warm way with `ROBOTFABRIK_WARM_FLOWS=bench.warm_flow:bench_case python -m flows.worker`.
"""

import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from prefect import flow, task  # noqa: E402
from prefect.flow_runs import suspend_flow_run  # noqa: E402
from prefect.input import RunInput  # noqa: E402

from flows.django_setup import setup as _django_setup  # noqa: E402

_django_setup()

DOCUMENT = """<!doctype html><html lang="sv"><head><meta charset="utf-8"><style>
body {{ font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; }}
table {{ border-collapse: collapse; }} td {{ border: 1px solid #999; padding: 2pt 6pt; }}
</style></head><body><h1>Beslut {case}</h1><p>Underlag version {version}.</p>
<table>{rows}</table></body></html>"""


class Decision(RunInput):
    approved: bool


@task
def gather(case: int) -> str:
    return hashlib.sha256(f"register-{case}".encode()).hexdigest()


@task
def compute(snapshot: str) -> int:
    return int(snapshot[:6], 16) % 10_000


@task
def render(case: int, amount: int) -> str:
    """A one-page PDF with a small table: the document work of a case."""
    import weasyprint

    rows = "".join(f"<tr><td>Post {i}</td><td>{amount + i} kr</td></tr>" for i in range(12))
    html = DOCUMENT.format(case=case, version=1, rows=rows)
    return hashlib.sha256(weasyprint.HTML(string=html).write_pdf()).hexdigest()


@task
def letter(case: int, approved: bool, pdf_sha256: str) -> str:
    return hashlib.sha256(f"{case}-{approved}-{pdf_sha256}".encode()).hexdigest()


@flow(name="bench-case", persist_result=True)
def bench_case(case: int) -> str:
    snapshot = gather(case)
    amount = compute(snapshot)
    pdf = render(case, amount)
    decision = suspend_flow_run(wait_for_input=Decision, key=f"decision-{case}", timeout=None)
    return letter(case, decision.approved, pdf)


if __name__ == "__main__":
    from prefect import serve

    # As flows/serve.py does for the product's flows.
    limit = int(os.environ.get("ROBOTFABRIK_RUNNER_LIMIT", "4"))
    serve(bench_case.to_deployment(name=bench_case.name), limit=limit)
