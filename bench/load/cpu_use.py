"""CPU time of a load run, by process group, per request of its steady state (bench/load/run.sh).

    cpu_use.py sample OUT DBNAME      # every 5 s, appends a snapshot to OUT (until killed)
    cpu_use.py report OUT HISTORY USERS

``sample`` reads /proc: the machine's busy and total time, and the CPU time of gunicorn's
processes (this app's), of the PostgreSQL backends serving DBNAME and of locust. ``report``
takes the steady state from locust's history CSV (from the first row with USERS users to the
last row) and prints the machine's busy share and each group's CPU per request of it, the
figures to set against `bench/load/page_cost.py`'s in-process ones. A backend that exits
takes its CPU time with it, and so does a gunicorn worker recycled after `max_requests`: their
parents' "children" CPU (the gunicorn master's, PostgreSQL's postmaster's, counted once each
when they reap them) brings it back. The postmaster's also holds ended backends of other
databases, so measure on a quiet machine.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def snapshot(dbname: str) -> dict:
    with open("/proc/stat") as stat:
        jiffies = [int(x) for x in stat.readline().split()[1:9]]
    groups = {"app": 0, "db": 0, "locust": 0}
    app_pids = set()
    reapers = {}  # pid -> group: the CPU of the children it reaped counts too
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        cpu = int(fields[11]) + int(fields[12])
        parent = fields[1]
        if "gunicorn" in command and "crm_site.wsgi" in command:
            groups["app"] += cpu
            app_pids.add(pid)
            reapers[parent] = "app"
        elif command.startswith("postgres:") and f" {dbname} " in command:
            groups["db"] += cpu
            reapers[parent] = "db"
        elif "locust" in command:
            groups["locust"] += cpu
    for pid, group in reapers.items():
        if group == "app" and pid not in app_pids:
            continue  # the shell that started the master, not the master
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        groups[group] += int(fields[13]) + int(fields[14])
    idle = jiffies[3] + jiffies[4]
    return {"t": time.time(), "busy": sum(jiffies) - idle, "total": sum(jiffies), **groups}


def report(samples_path: str, history_path: str, users: int) -> None:
    with open(samples_path) as f:
        samples = [json.loads(line) for line in f]
    with open(history_path) as f:
        rows = [row for row in csv.DictReader(f) if row["Name"] == "Aggregated"]
    steady = [row for row in rows if int(row["User Count"]) >= users]
    if len(steady) < 2 or len(samples) < 2:
        print("cpu: no steady state to measure")
        return

    def at(moment: float) -> dict:
        return min(samples, key=lambda sample: abs(sample["t"] - moment))

    first, last = at(float(steady[0]["Timestamp"])), at(float(steady[-1]["Timestamp"]))

    def requests_at(moment: float) -> int:
        row = min(steady, key=lambda row: abs(float(row["Timestamp"]) - moment))
        return int(row["Total Request Count"])

    # Requests between the two samples, from the history rows nearest to them.
    requests = requests_at(last["t"]) - requests_at(first["t"])
    seconds = last["t"] - first["t"]
    if requests <= 0 or seconds <= 0:
        print("cpu: no requests in the steady state")
        return
    busy = (last["busy"] - first["busy"]) / (last["total"] - first["total"])
    per_request = {
        group: (last[group] - first[group]) / TICKS * 1000 / requests
        for group in ("app", "db", "locust")
    }
    print(
        f"cpu over {seconds:.0f} s of the steady state ({requests} requests, "
        f"{requests / seconds:.1f} a second): machine {100 * busy:.0f} % busy; per request "
        f"app {per_request['app']:.1f} ms, db {per_request['db']:.1f} ms, "
        f"locust {per_request['locust']:.1f} ms"
    )


def main() -> None:
    if sys.argv[1] == "sample":
        with open(sys.argv[2], "a") as out:
            while True:
                out.write(json.dumps(snapshot(sys.argv[3])) + "\n")
                out.flush()
                time.sleep(5)
    elif sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
