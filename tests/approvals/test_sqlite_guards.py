"""The embedded demo database (SQLite) gets every guard the migrations install, however
often its tables are rebuilt by later migrations (SQLite rebuilds a table to alter it,
dropping its triggers)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_fresh_sqlite_database_has_every_guard(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": "",
        "ROBOTFABRIK_DEMO": "1",
        "ROBOTFABRIK_STATE_DIR": str(tmp_path),
    }
    for command in (["migrate", "-v0"], ["verify_audit", "--no-anchors"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert "intact" in result.stdout
