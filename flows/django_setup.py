"""Prefect reaches Django through this one entry: configure Django once per process."""

import os
import sys
from pathlib import Path

_ready = False


def setup() -> None:
    global _ready
    if _ready:
        return
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "municipality.settings")
    import django

    django.setup()
    _ready = True
