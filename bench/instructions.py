"""Instructions per request of some pages, counted by callgrind: a measure of app CPU that the
machine's drifting speed and other processes do not move (docs/benchmarks.md, issue 19).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_load
    .venv/bin/python bench/instructions.py [--user manager] [--rounds 2 6] URL [URL ...]

Runs this script twice under ``valgrind --tool=callgrind`` (``PYTHONMALLOC=malloc``, a fixed
``PYTHONHASHSEED``): each time it signs in, requests every URL once as a warm-up, then the URLs
ROUNDS times through Django's test client (full middleware stack, no server). The difference
of the two runs' totals divided by the difference of their rounds is what one round of the
URLs costs, without start-up, imports and warm-up. Compare versions by running the same command
from two worktrees. The garbage collector runs where its counts fall, so a pair of runs moves by
a million instructions or so: take a few. Needs valgrind; callgrind runs ~50x slower.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("urls", nargs="+", metavar="URL")
    parser.add_argument("--user", default="manager", help="password: LOAD_PASSWORD or demo")
    parser.add_argument("--rounds", nargs=2, type=int, default=[2, 6], metavar=("FEW", "MANY"))
    parser.add_argument("--loop", type=int, help=argparse.SUPPRESS)  # the run under valgrind
    args = parser.parse_args()
    if args.loop is not None:
        request_rounds(args.urls, args.user, args.loop)
        return
    few, many = args.rounds
    totals = {rounds: instructions(args, rounds) for rounds in (few, many)}
    per_round = (totals[many] - totals[few]) / (many - few)
    print(f"{len(args.urls)} URL(s) as {args.user}, rounds {few} and {many}:")
    print(f"  totals {totals[few]:,} and {totals[many]:,} instructions")
    per_request = per_round / len(args.urls)
    print(f"  a round: {per_round / 1e6:.2f} M; a request: {per_request / 1e6:.2f} M")


def instructions(args, rounds: int) -> int:
    """Callgrind's total for ``rounds`` rounds of the URLs."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            f"--log-file={Path(tmp) / 'valgrind.log'}",
            sys.executable,
            __file__,
            "--loop",
            str(rounds),
            "--user",
            args.user,
            *args.urls,
        ]
        env = {**os.environ, "PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"}
        # This script under valgrind, with the caller's own arguments.
        run = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)  # noqa: S603
        if run.returncode:
            sys.exit(f"the run of {rounds} rounds failed:\n{run.stderr[-3000:]}")
        totals = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
        return int(totals.group(1))


def request_rounds(urls: list[str], username: str, rounds: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
    import django

    django.setup()
    from django.test import Client

    client = Client()
    password = os.environ.get("LOAD_PASSWORD", "demo")  # seed_demo's, as the load run's
    if not client.login(username=username, password=password):
        sys.exit(f"cannot sign in as {username!r}")
    for url in urls:
        status = client.get(url).status_code
        if status != 200:
            sys.exit(f"{url}: HTTP {status}")
    gc.collect()  # both runs start their rounds from the same heap
    for _ in range(rounds):
        for url in urls:
            client.get(url)


if __name__ == "__main__":
    main()
