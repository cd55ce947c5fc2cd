"""Reading a roster file and printing a verdict, shared by ``roster_check`` and ``roster_propose``."""

import json
from pathlib import Path

from django.core.management.base import CommandError
from pydantic import ValidationError

from flows.schemalaggning.roster import RosterError
from flows.schemalaggning.schemas import RosterIn

BAD_INPUT = 2  # exit status for input that cannot be read (usage errors exit 2 too)


def roster_read(file: str) -> RosterIn:
    """Return the validated roster in ``file``; ``CommandError`` (exit 2) for anything unreadable."""
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommandError(f"No such file: {file}", returncode=BAD_INPUT) from None
    except json.JSONDecodeError as exc:
        raise CommandError(f"Malformed JSON in {file}: {exc}", returncode=BAD_INPUT) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"Cannot read {file}: {exc}", returncode=BAD_INPUT) from None
    if not isinstance(data, dict):
        raise CommandError(f"{file}: the roster must be a JSON object.", returncode=BAD_INPUT)
    try:
        return RosterIn.model_validate(data)
    except ValidationError as exc:
        raise CommandError(
            f"Invalid roster in {file}:\n{validation_text(exc)}", returncode=BAD_INPUT
        ) from None


def validation_text(exc: ValidationError) -> str:
    """Return one line per error, ``shifts[0].start: message``, without pydantic's links."""
    lines = []
    for error in exc.errors():
        where = ""
        for part in error["loc"]:
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {where or '(roster)'}: {message}")
    return "\n".join(lines)


def roster_error(exc: RosterError) -> CommandError:
    return CommandError(f"{exc.code}: {exc.message}", returncode=BAD_INPUT)


def verdict_text(verdict: dict) -> str:
    """Return the breaches and uncovered needs as lines a manager can read."""
    lines = []
    breaches, uncovered = verdict["breaches"], verdict["uncovered"]
    lines.append(f"Breaches: {len(breaches)}")
    for b in breaches:
        lines.append(f"  {b['staff']:<8} {b['rule']:<13} {b['start']} – {b['end']}  {b['detail']}")
    lines.append(f"Uncovered needs: {len(uncovered)}")
    for u in uncovered:
        asks = "/".join(u["roles"]) or "any role"
        if u["competences"]:
            asks += " with " + ", ".join(u["competences"])
        lines.append(
            f"  {u['need']:<24} {u['start']} – {u['end']}  {u['missing']} of {u['count']} "
            f"missing ({asks})"
        )
    return "\n".join(lines)
