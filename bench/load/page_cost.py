"""What each request of the load run costs, one request at a time, in-process.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_load
    .venv/bin/python bench/load/page_cost.py [--rounds 30]

Requests go through Django's full middleware stack (test client, a demo salesperson signed in)
without gunicorn or the network, ROUNDS times each after one warm-up. For every page it prints
the app's CPU time (this process), PostgreSQL's CPU time (the backend serving this connection,
read from /proc, so only when the server runs on this machine) and the queries, per request.
The wizard is driven as the load run drives it: each step posted with its own defaults.

The load run's throughput is bounded by these figures: two cores serve at most
2000 / (app + db ms) requests a second, less what locust and the rest of the machine take.
CPU time, unlike wall time, hardly depends on what else the machine is doing, but this VM's
clock speed drifts: compare versions in the same run of the machine, not across days.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.load.html_forms import post_form  # noqa: E402
from contacts.models import Contact  # noqa: E402
from interactions.models import InteractionTemplate  # noqa: E402
from segments.models import Segment  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


class Counter:
    """Queries run on the default connection (an execute wrapper)."""

    def __init__(self) -> None:
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def backend_cpu() -> float:
    """Seconds of CPU the PostgreSQL backend of this connection has used (NaN unless that
    backend is a process of this machine)."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    proc = Path(f"/proc/{pid}")
    try:
        if not proc.joinpath("comm").read_text().startswith("postgres"):
            return float("nan")
        fields = proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / TICKS


class Meter:
    def __init__(self) -> None:
        self.counter = Counter()
        self.samples: dict[str, list[tuple[float, float, int]]] = {}

    def measure(self, name: str, request, *args):
        """Run ``request(*args)``; file its app CPU, database CPU and query count under name."""
        queries = self.counter.queries
        db = backend_cpu()
        start = time.process_time()
        response = request(*args)
        app = time.process_time() - start
        self.samples.setdefault(name, []).append(
            (app * 1000, (backend_cpu() - db) * 1000, self.counter.queries - queries)
        )
        return response

    def report(self) -> None:
        print(f"{'request':44s} {'app ms':>7s} {'db ms':>6s} {'queries':>7s}")
        app_total = db_total = 0.0
        for name, rows in self.samples.items():
            app = statistics.fmean(row[0] for row in rows)
            db = statistics.fmean(row[1] for row in rows)
            queries = statistics.fmean(row[2] for row in rows)
            if name != "/healthz":
                app_total += app
                db_total += db
            print(f"{name:44s} {app:7.1f} {db:6.1f} {queries:7.1f}")
        pages = len(self.samples) - 1
        print(
            f"mean over the requests (not /healthz; pages and wizard steps alike): "
            f"app {app_total / pages:.1f} ms, "
            f"db {db_total / pages:.1f} ms"
        )


def wizard_journey(client: Client, meter: Meter, contact: Contact, template_id: int) -> None:
    """Create Interaction from a contact to Finish, every step posted with its defaults."""
    response = meter.measure(
        "wizard: start (POST)", client.post, "/interactions/create/", {"contact": contact.pk}
    )
    path = response["Location"]
    page = meter.measure("wizard: step (GET)", client.get, path)
    for _step in range(6):
        fields = post_form(page.content.decode())["fields"]
        if fields.get("type-template") == "":
            fields["type-template"] = str(template_id)
        step = next(value for key, value in fields.items() if key.endswith("-current_step"))
        response = meter.measure(f"wizard: {step} (POST)", client.post, path, fields)
        assert response.status_code == 302, (step, response.status_code)
        path = urlsplit(response["Location"]).path
        if "/wizard/" not in path:
            meter.measure("wizard: Finish -> contact card", client.get, path)
            return
        page = meter.measure("wizard: step (GET)", client.get, path)
        assert b"errorlist" not in page.content, step
    raise AssertionError("the wizard did not finish")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds

    client = Client()
    client.force_login(get_user_model().objects.get(username="anna"))
    contact = Contact.objects.filter(company__isnull=False, privacy_blocked=False).order_by("pk")[0]
    template = InteractionTemplate.objects.filter(contents__isnull=False).order_by("pk")[0]
    segment = Segment.objects.order_by("pk").first()
    pages = [
        "/healthz",
        "/contacts/",
        "/contacts/?q=Ba",
        "/contacts/search/?q=B",
        f"/contacts/{contact.pk}/",
        "/interactions/entries/",
        f"/interactions/entries/?contact={contact.number}",
        f"/interactions/entries/?template={template.code}",
        "/interactions/drafts/",
        "/segments/",
        f"/segments/{segment.pk}/",
    ]
    meter = Meter()
    with connection.execute_wrapper(meter.counter):
        for path in pages:
            client.get(path)
            for _ in range(rounds):
                status = meter.measure(path, client.get, path).status_code
                assert status == 200, (path, status)
        wizard_journey(client, Meter(), contact, template.pk)  # warm-up
        for _ in range(rounds):
            wizard_journey(client, meter, contact, template.pk)
    meter.report()


if __name__ == "__main__":
    main()
