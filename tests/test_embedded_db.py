"""The project's own PostgreSQL: one place starts it, a second start reuses it."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent


def embedded(command: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crm_site.embedded_db", command],
        cwd=BASE_DIR,
        env={**os.environ, "CRM_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_second_start_reuses_the_running_server_and_stop_keeps_the_data(tmp_path):
    data_dir = tmp_path / "data"
    try:
        first = embedded("start", data_dir)
        assert first.returncode == 0, first.stderr
        url = first.stdout.strip()
        assert (data_dir / "database_url").read_text().strip() == url
        postmaster = (data_dir / "postgres" / "postmaster.pid").read_text().split()[0]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            assert conn.execute("SELECT current_database()").fetchone() == ("crm",)

        second = embedded("start", data_dir)
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == url
        assert (data_dir / "postgres" / "postmaster.pid").read_text().split()[0] == postmaster

        assert embedded("url", data_dir).stdout.strip() == url
        assert embedded("stop", data_dir).returncode == 0
        stopped = embedded("url", data_dir)
        assert stopped.returncode == 1
        assert "make db" in stopped.stderr

        again = embedded("start", data_dir)
        with psycopg.connect(again.stdout.strip()) as conn:
            assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
    finally:
        embedded("stop", data_dir)


def test_settings_refuse_to_guess_when_nothing_is_running(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CRM_DATA_DIR"] = str(tmp_path / "empty")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "embedded PostgreSQL server is not running" in result.stderr
    assert "make db" in result.stderr
