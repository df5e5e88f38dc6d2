"""What each request of the load run costs, one request at a time, in-process.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_load
    .venv/bin/python bench/load/page_cost.py [--rounds 30]

Requests go through Django's full middleware stack (test client, a demo salesperson signed in)
without gunicorn or the network, ROUNDS times each after one warm-up. For every page it prints
the app's CPU time (this process), PostgreSQL's CPU time (the backend serving this connection,
read from /proc, so only when the server runs on this machine) and the queries, per request.
The wizard is driven as the load run drives it: each step posted with its own defaults.

The last line weighs the requests as the load run's mix does (`MIX`: the locustfile's task
weights times the requests of each journey), the figure to compare with the load run's CPU per
request. The load run's throughput is bounded by these figures: two cores serve at most
2000 / (app + db ms) requests a second, less what locust and the rest of the machine take.
CPU time, unlike wall time, hardly depends on what else the machine is doing, but this VM's
clock speed drifts: compare versions in the same run of the machine, not across days.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.load.html_forms import URLENCODED, post_form  # noqa: E402
from contacts.models import Contact, Salesperson  # noqa: E402
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

    def report(self, mix: dict[str, int] | None = None) -> None:
        print(f"{'request':44s} {'app ms':>7s} {'db ms':>6s} {'queries':>7s}")
        means = {}
        for name, rows in self.samples.items():
            means[name] = tuple(statistics.fmean(row[i] for row in rows) for i in range(3))
            print(f"{name:44s} {means[name][0]:7.1f} {means[name][1]:6.1f} {means[name][2]:7.1f}")
        pages = [name for name in means if name != "/healthz"]
        print(
            f"mean over the requests (not /healthz; pages and wizard steps alike): "
            f"app {statistics.fmean(means[name][0] for name in pages):.1f} ms, "
            f"db {statistics.fmean(means[name][1] for name in pages):.1f} ms"
        )
        if mix:
            weight = sum(mix.values())
            app, db, queries = (
                sum(means[name][i] * share for name, share in mix.items()) / weight
                for i in range(3)
            )
            print(
                f"the load run's mix ({weight} requests a round, weighted as MIX): "
                f"app {app:.1f} ms, db {db:.1f} ms, {queries:.1f} queries per request"
            )


# How often each request comes in the load run (bench/load/locustfile.py), per round of its
# task weights: contacts 4 (list, prefix search, card), entries 4 (unfiltered, salesperson and
# month, template, contact), Create Interaction 3 (the card, start, then each of the four steps
# as a GET and a POST, ending on the card), postponed 2, a segment page 2. The JSON picker and
# the Segments list come once per simulated user, not per round.
MIX = {
    "/contacts/": 4,
    "/contacts/?q=Ba": 4,
    "/contacts/[id]/": 4 + 3,
    "/interactions/entries/": 4,
    "/interactions/entries/?salesperson&month": 4,
    "/interactions/entries/?template": 4,
    "/interactions/entries/?contact": 4,
    "wizard: start (POST)": 3,
    "wizard: step (GET)": 3 * 4,
    "wizard: type (POST)": 3,
    "wizard: content (POST)": 3,
    "wizard: related (POST)": 3,
    "wizard: result (POST)": 3,
    "wizard: Finish -> contact card": 3,
    "/interactions/drafts/": 2,
    "/segments/[id]/": 2,
}


def submit(client: Client, path: str, form: dict):
    """POST a form's fields encoded as its enctype says, as a browser does (the test client
    would post every form as multipart)."""
    if form["enctype"] == URLENCODED:
        return client.post(path, urlencode(form["fields"]), content_type=URLENCODED)
    return client.post(path, form["fields"])


def wizard_journey(client: Client, meter: Meter, contact: Contact, template_id: int) -> None:
    """Create Interaction from a contact to Finish, every step posted with its defaults."""
    response = meter.measure(
        "wizard: start (POST)", client.post, "/interactions/create/", {"contact": contact.pk}
    )
    path = response["Location"]
    page = meter.measure("wizard: step (GET)", client.get, path)
    for _step in range(6):
        form = post_form(page.content.decode())
        fields = form["fields"]
        if fields.get("type-template") == "":
            fields["type-template"] = str(template_id)
        step = next(value for key, value in fields.items() if key.endswith("-current_step"))
        response = meter.measure(f"wizard: {step} (POST)", submit, client, path, form)
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
    salesperson = Salesperson.objects.order_by("pk").first()
    month = timezone.localdate().replace(day=1) - datetime.timedelta(days=60)
    month = month.replace(day=1)
    by_month = urlencode(
        {
            "salesperson": salesperson.code,  # the select offers codes, as locust posts them
            "date_from": month.isoformat(),
            "date_to": (month + datetime.timedelta(days=27)).isoformat(),
        }
    )
    pages = {  # name (as in MIX): path
        "/healthz": "/healthz",
        "/contacts/": "/contacts/",
        "/contacts/?q=Ba": "/contacts/?q=Ba",
        "/contacts/search/?q=B": "/contacts/search/?q=B",
        "/contacts/[id]/": f"/contacts/{contact.pk}/",
        "/interactions/entries/": "/interactions/entries/",
        "/interactions/entries/?salesperson&month": f"/interactions/entries/?{by_month}",
        "/interactions/entries/?contact": f"/interactions/entries/?contact={contact.number}",
        "/interactions/entries/?template": f"/interactions/entries/?template={template.code}",
        "/interactions/drafts/": "/interactions/drafts/",
        "/segments/": "/segments/",
        "/segments/[id]/": f"/segments/{segment.pk}/",
    }
    meter = Meter()
    with connection.execute_wrapper(meter.counter):
        for name, path in pages.items():
            # A filter the form refuses would measure its error page, not the list.
            assert b"errorlist" not in client.get(path).content, path
            for _ in range(rounds):
                status = meter.measure(name, client.get, path).status_code
                assert status == 200, (path, status)
        wizard_journey(client, Meter(), contact, template.pk)  # warm-up
        for _ in range(rounds):
            wizard_journey(client, meter, contact, template.pk)
    meter.report(MIX)


if __name__ == "__main__":
    main()
