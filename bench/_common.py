"""Shared bits of the benchmarks: Django set-up, and running a command as its own process so
that its wall time and peak memory are its own."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
    import django

    django.setup()


@dataclass
class Run:
    seconds: float
    peak_mb: float  # the process's own peak resident memory (ru_maxrss from wait4)
    stdout: str
    stderr: str


def manage(*args: str) -> Run:
    """Run ``manage.py *args`` as a child process and measure it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our manage.py, arguments from this script
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, stdout=out, stderr=err
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed ({process.returncode}):\n{stderr}")
    return Run(seconds, usage.ru_maxrss / 1024, stdout, stderr)
