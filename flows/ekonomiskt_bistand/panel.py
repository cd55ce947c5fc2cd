"""What the case page's proposal panel of ekonomiskt bistånd shows (hook case_panel_context)."""

from approvals.models import Case
from approvals.selectors import decision_previous_for_applicant, register_snapshot_latest


def case_panel_context(*, case, material) -> dict:
    return {
        "sections": material_sections(material=material) if material else None,
        "registers": register_overview(case=case),
        "previous": decision_previous_for_applicant(case=case),
    }


def material_sections(*, material) -> dict:
    """The calculation's lines grouped for display, each with the deviations that concern it.

    A flag about an income type sits next to the income line `income.<type>`; flags
    about no line (household, registers that did not answer, an income the
    calculation does not count) are returned under "other".
    """
    calculation = material.proposal or {}
    flags = list(material.flags or [])
    placed: set[int] = set()
    sections = []
    for key, title in (
        ("riksnorm_lines", "riksnorm"),
        ("cost_lines", "costs"),
        ("income_lines", "incomes"),
    ):
        lines = []
        for line in calculation.get(key, []):
            concerning = []
            for i, flag in enumerate(flags):
                if flag.get("income_type") and line.get("code") == f"income.{flag['income_type']}":
                    concerning.append(flag)
                    placed.add(i)
            lines.append({**line, "flags": concerning})
        sections.append({"key": title, "lines": lines, "total": calculation.get(title)})
    return {
        "sections": sections,
        "other_flags": [f for i, f in enumerate(flags) if i not in placed],
        "flag_count": len(flags),
    }


def register_overview(*, case: Case) -> dict | None:
    """What the registers answered for the control month, by source, with the origin of each.

    Rows name the source (the origin of the figure), the household member (masked in
    the template), the month and the income. A source that did not answer is listed
    as missing, never as zero.
    """
    snapshot = register_snapshot_latest(case=case)
    if snapshot is None:
        return None
    rows, quiet = [], []
    for answer in snapshot.data.get("answers", []):
        if not answer.get("answered"):
            continue
        if not answer.get("records"):
            quiet.append(answer["source"])
        for record in answer.get("records", []):
            rows.append(
                {
                    "source": answer["source"],
                    "personnummer": answer.get("personnummer", ""),
                    "month": record.get("month", answer.get("month")),
                    "income_type": record.get("income_type"),
                    "amount": record.get("amount"),
                }
            )
    return {
        "fetched_at": snapshot.fetched_at,
        "control_month": snapshot.data.get("control_month"),
        "rows": rows,
        "no_income_sources": sorted(set(quiet) - {r["source"] for r in rows}),
        "missing_sources": snapshot.missing_sources,
        "household": snapshot.data.get("household"),
    }
