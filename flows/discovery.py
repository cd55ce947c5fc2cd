"""Which process packages exist: every ``flows/<name>/`` with an ``apps.py`` is a Django app.

Read by settings (a directory listing, no imports), so that adding a robot is one
package and settings name no process.
"""

from pathlib import Path

FLOWS_DIR = Path(__file__).resolve().parent


def process_app_names() -> list[str]:
    return sorted(
        f"flows.{path.parent.name}"
        for path in FLOWS_DIR.glob("*/apps.py")
        if not path.parent.name.startswith("_")
    )
