"""README's first command: the demo starts every part, submits the demo applications, and can run again."""

import os
import subprocess
import sys

import pytest

from municipality.runtime import ROOT, free_port

pytestmark = pytest.mark.e2e


def _run_demo(state_dir, web_port, prefect_port):
    env = {**os.environ, "ROBOTFABRIK_STATE_DIR": str(state_dir), "DATABASE_URL": ""}
    return subprocess.run(
        [
            sys.executable,
            "manage.py",
            "run_demo",
            "--exit-after-submit",
            "--port",
            str(web_port),
            "--prefect-port",
            str(prefect_port),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )


def test_demo_runs_twice_and_keeps_its_data(tmp_path):
    """The demo brings every demo application to a human, and a second run finds them again."""
    web_port, prefect_port = free_port(), free_port()
    first = _run_demo(tmp_path, web_port, prefect_port)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count(": 201 case") == 6
    # Every bistånd application waits for a person (the robots' own demo cases too).
    assert "ekonomiskt-bistand 6" in first.stdout
    assert "rf_demo_etjanst_token_2026" in first.stdout and "demo-2026!" in first.stdout
    assert "Stopped every process the demo started." in first.stdout
    assert (tmp_path / "robotfabrik.sqlite3").exists()
    assert (tmp_path / "prefect" / "prefect.db").exists()

    second = _run_demo(tmp_path, web_port, prefect_port)
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.count(": 200 case") == 6
    assert "ekonomiskt-bistand 6" in second.stdout
