"""What bench/cluster/run.sh needs from Python: counting rows, asking HAProxy about its
servers, cutting the app's database connections, and judging a run (one summary line).

    cluster.py count                      -> "ENTRIES HIGHEST_ENTRY LOGGED HIGHEST_LOGGED"
    cluster.py wait-up SOCKET N           -> waits until N servers are UP (bounded)
    cluster.py wait-down SOCKET SERVER    -> seconds until SERVER is no longer UP (bounded)
    cluster.py cut-connections            -> terminates every connection of the app servers:
                                             "HOW_MANY EPOCH_SECONDS"
    cluster.py summary ...                -> the run's summary line; exit 1 if it failed

Needs DATABASE_URL (and DJANGO_SETTINGS_MODULE is set here) for the database subcommands.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from collections import Counter
from pathlib import Path

APP_NAME = "crm-web"  # the app servers' application_name (DB_APPLICATION_NAME's default)


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
    os.environ["DB_APPLICATION_NAME"] = "crm-cluster-bench"  # never cut by cut-connections
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import django

    django.setup()


# --- HAProxy's runtime API --------------------------------------------------------------------


def server_states(sock_path: str) -> dict[str, str]:
    """server name -> status ("UP", "DOWN", "MAINT", "UP 1/2", ...) of the backend `app`."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(sock_path)
        sock.sendall(b"show stat\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    states = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == "app" and row.get("svname") not in ("BACKEND", "FRONTEND"):
            states[row["svname"]] = row["status"]
    return states


def wait_up(sock_path: str, count: int) -> None:
    for _ in range(600):  # at most a minute
        try:
            states = server_states(sock_path)
        except OSError:
            states = {}
        if sum(state == "UP" for state in states.values()) >= count:
            return
        time.sleep(0.1)
    sys.exit(f"HAProxy never saw {count} servers up: {states}")


def wait_down(sock_path: str, server: str) -> None:
    """Prints the seconds until HAProxy stopped sending new requests to ``server``."""
    start = time.monotonic()
    for _ in range(1200):  # at most two minutes
        if not server_states(sock_path).get(server, "").startswith("UP"):
            print(f"{time.monotonic() - start:.1f}")
            return
        time.sleep(0.05)
    print("never")


# --- the database -----------------------------------------------------------------------------


def count() -> None:
    django_setup()
    from django.db.models import Max

    from interactions.models import InteractionLogEntry
    from segments.models import LoggedSegment

    entries = InteractionLogEntry.objects.aggregate(n=Max("pk"))["n"] or 0
    logged = LoggedSegment.objects.aggregate(n=Max("pk"))["n"] or 0
    print(InteractionLogEntry.objects.count(), entries, LoggedSegment.objects.count(), logged)


def cut_connections() -> None:
    """pg_terminate_backend of every connection the app servers hold; prints how many and when
    (epoch seconds: the fault's time, which Django's start-up here would make late otherwise)."""
    django_setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            [APP_NAME],
        )
        print(cursor.fetchone()[0], time.time())


# --- judging a run ----------------------------------------------------------------------------


def haproxy_requests(log: Path) -> list[dict]:
    """The request lines of HAProxy's log (run.sh's log-format): accept time, handshake and
    idle ms, active ms, backend/server, status, termination state, retries, method, URI."""
    requests = []
    for line in log.read_text(errors="replace").splitlines():
        parts = line.split(" ", 9)
        if len(parts) != 10 or not parts[0][:1].isdigit():
            continue  # HAProxy's own messages (start, a server going down, ...)
        accepted, handshake, idle, active, where, status, state, retries, method, uri = parts
        start = float(accepted) + (max(int(handshake), 0) + max(int(idle), 0)) / 1000
        requests.append(
            {
                "start": start,
                "end": start + max(int(active), 0) / 1000,
                "server": where.split("/", 1)[1],
                "status": int(status),
                "state": state,
                "retries": retries,
                "method": method,
                "uri": uri,
            }
        )
    return requests


def writes(results: dict, highest_entry: int, highest_logged: int) -> tuple[bool, str]:
    """Every Finish that answered logged exactly one entry, every Log that answered exactly one
    logged segment with the entries it announced; what else appeared belongs to a Finish or a
    Log that got no answer (it may have committed before its server died), at most once each."""
    django_setup()
    from interactions.models import InteractionLogEntry
    from segments.models import LoggedSegment

    new_entries = list(
        InteractionLogEntry.objects.filter(pk__gt=highest_entry).values_list(
            "pk", "draft_id", "logged_segment_id"
        )
    )
    new_logged = dict(
        LoggedSegment.objects.filter(pk__gt=highest_logged).values_list("pk", "segment_id")
    )
    problems = []

    # Logs: the logged segments are those reported, plus at most one per unanswered Log.
    logs = results.get("logs", [])
    reported_logged = {log["logged"]: log for log in logs}
    unanswered_logs = set(results.get("unanswered_logs", []))
    problems += [
        f"Log of segment {log['segment']} has no logged segment {log['logged']}"
        for log in logs
        if new_logged.get(log["logged"]) != log["segment"]
    ]
    extra_logged = {pk: seg for pk, seg in new_logged.items() if pk not in reported_logged}
    unexplained_logged = [pk for pk, seg in extra_logged.items() if seg not in unanswered_logs]
    if unexplained_logged or len(reported_logged) != len(logs):
        problems.append(f"logged segments nobody reported: {unexplained_logged[:5]}")
    per_logged = Counter(logged for _pk, _draft, logged in new_entries if logged)
    for pk, log in reported_logged.items():
        if per_logged[pk] != log["entries"]:
            problems.append(f"logged segment {pk}: {per_logged[pk]} entries, not {log['entries']}")

    # Finishes: every reported entry exists once; other entries belong to a new logged segment
    # or to a draft whose Finish got no answer, at most one per draft.
    reported = results["entries"]
    by_pk = {pk: (draft, logged) for pk, draft, logged in new_entries}
    lost = [pk for pk in reported if pk not in by_pk]
    twice = [pk for pk, n in Counter(reported).items() if n > 1]
    unanswered = set(results.get("unanswered_drafts", []))
    rest = {
        pk: draft
        for pk, (draft, logged) in by_pk.items()
        if pk not in set(reported) and logged not in new_logged
    }
    unexplained = [pk for pk, draft in rest.items() if str(draft) not in unanswered]
    per_draft = Counter(str(draft) for draft, logged in by_pk.values() if draft and not logged)
    doubled = [draft for draft, n in per_draft.items() if n > 1]
    if lost or twice or unexplained or doubled:
        problems.append(
            f"Finishes: lost {lost[:5]}, reported twice {twice[:5]}, entries nobody reported "
            f"{unexplained[:5]}, drafts with two entries {doubled[:5]}"
        )
    text = (
        f"{len(reported)} Finishes answered -> {len(reported)} entries, "
        f"{len(rest) - len(unexplained)} of {len(unanswered)} unanswered wizard steps wrote "
        f"one; {len(logs)} Logs answered -> {len(logs)} logged segments with "
        f"{sum(log['entries'] for log in logs)} entries, "
        f"{len(extra_logged) - len(unexplained_logged)} of {len(unanswered_logs)} unanswered "
        "Logs wrote one"
    )
    if problems:
        text += "; MISMATCH: " + "; ".join(problems)
    return not problems, text


def summary(args: argparse.Namespace) -> None:
    results = json.loads(Path(args.results).read_text())
    logs = Path(args.results).with_name(Path(args.results).stem + "-logs.json")
    if logs.exists():  # bench/cluster/cluster_mix.py's Logs
        results.update(json.loads(logs.read_text()))
    requests = haproxy_requests(Path(args.haproxy_log))
    failed_client = results["errors"]["count"]
    total_client = results["errors"]["requests"]
    at = args.fault_time
    bad = [r for r in requests if r["status"] >= 500 or r["status"] < 0]
    # In flight at the fault: begun before it (or within half a second: a terminated backend
    # takes a moment to go) and not yet answered.
    in_flight = [r for r in bad if at is not None and r["start"] <= at + 0.5 and r["end"] >= at]
    if args.fault in ("sigterm", "sigkill"):
        in_flight = [r for r in in_flight if r["server"] == args.victim]
    elsewhere = [r for r in bad if r not in in_flight]
    # The same by the client's clock: a POST whose server is killed under it can end as a closed
    # connection that HAProxy's log shows no line for (seen in the full sigkill runs).
    failed_in_flight = [
        f
        for f in results["errors"].get("failed", [])
        if at is not None and f["start"] <= at + 0.5 and f["end"] >= at
    ]
    redispatched = sum(r["retries"].startswith("+") for r in requests)
    ok_writes, text_writes = writes(results, args.highest_entry, args.highest_logged)
    journeys = len(results["failures"])

    if args.fault == "sigterm":
        fault = (
            f"{args.victim} SIGTERM at {args.fault_after:.0f} s (drain {args.drain} s, "
            f"stopped {args.stopped_after} s later)"
        )
        ok = failed_client == 0 and not bad
    elif args.fault == "sigkill":
        fault = f"{args.victim} SIGKILL at {args.fault_after:.0f} s"
        ok = not elsewhere and failed_client == len(failed_in_flight)
    elif args.fault == "dbcut":
        fault = f"{args.cut} database connections cut at {args.fault_after:.0f} s"
        ok = not elsewhere and failed_client == len(failed_in_flight)
    else:
        fault = "no fault"
        ok = failed_client == 0 and not bad
    ok = ok and ok_writes and journeys == 0
    down = f", out of the balancer after {args.down_after} s" if args.down_after else ""
    kinds = Counter(f"{r['method']} {r['status']} {r['state']}" for r in in_flight)
    detail = ", ".join(f"{n} x {kind}" for kind, n in sorted(kinds.items())) or "none"
    print(
        f"{args.fault}: {fault}{down}; {total_client} requests, {failed_client} failed "
        f"(in flight at the fault: {len(failed_in_flight)} by the client's clock, in HAProxy's "
        f"log {detail}; other 5xx: {len(elsewhere)}); "
        f"{redispatched} redispatched; writes: {text_writes}; "
        f"journeys wrong without an HTTP error: {journeys} -> {'PASS' if ok else 'FAIL'}"
    )
    sys.exit(0 if ok else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("count")
    sub.add_parser("cut-connections")
    up = sub.add_parser("wait-up")
    up.add_argument("socket")
    up.add_argument("count", type=int)
    down = sub.add_parser("wait-down")
    down.add_argument("socket")
    down.add_argument("server")
    judge = sub.add_parser("summary")
    judge.add_argument("--fault", required=True, choices=["none", "sigterm", "sigkill", "dbcut"])
    judge.add_argument("--victim", default="")
    judge.add_argument("--fault-time", type=float, help="epoch seconds of the fault")
    judge.add_argument("--fault-after", type=float, default=0, help="seconds into the run")
    judge.add_argument("--down-after", default="")
    judge.add_argument("--drain", default="")
    judge.add_argument("--stopped-after", default="")
    judge.add_argument("--cut", default="")
    judge.add_argument("--results", required=True)
    judge.add_argument("--haproxy-log", required=True)
    judge.add_argument("--highest-entry", type=int, required=True)
    judge.add_argument("--highest-logged", type=int, required=True)
    args = parser.parse_args()
    if args.command == "count":
        count()
    elif args.command == "cut-connections":
        cut_connections()
    elif args.command == "wait-up":
        wait_up(args.socket, args.count)
    elif args.command == "wait-down":
        wait_down(args.socket, args.server)
    else:
        summary(args)


if __name__ == "__main__":
    main()
