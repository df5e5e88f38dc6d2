"""CPU and queries of the entry list's four kinds of request (as the load run asks for them).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_load   # seed_demo, VACUUM ANALYZE
    .venv/bin/python bench/entry_list.py [rounds]
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.6 .venv/bin/python bench/entry_list.py 6
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.2 .venv/bin/python bench/entry_list.py 2
    # instructions per request = (summary of cg.6 - summary of cg.2) / (4 * 4)

Unfiltered, by salesperson and month, by template, by contact: each asked for once as a warm-up,
then ``rounds`` times, through the full middleware stack (test client, a demo salesperson signed
in). Prints CPU ms of this process and the queries, per request.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from contacts.models import Salesperson  # noqa: E402
from interactions.models import InteractionLogEntry, InteractionTemplate  # noqa: E402


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    client = Client()
    client.force_login(Salesperson.objects.exclude(user=None).order_by("code").first().user)
    salesperson = Salesperson.objects.order_by("code").first()
    template = InteractionTemplate.objects.order_by("code").first()
    latest = InteractionLogEntry.objects.select_related("contact").order_by("-id").first()
    month = f"date_from={latest.date:%Y-%m}-01&date_to={latest.date.isoformat()}"
    paths = [
        "/interactions/entries/",
        f"/interactions/entries/?salesperson={salesperson.code}&{month}",
        f"/interactions/entries/?template={template.code}",
        f"/interactions/entries/?contact={latest.contact.number}",
    ]
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    for path in paths:
        response = client.get(path)
        if response.status_code != 200 or b"errorlist" in response.content:
            sys.exit(f"{path}: not a page of entries")
    for path in paths:
        with connection.execute_wrapper(count):
            queries = 0
            client.get(path)
        start = time.process_time()
        for _ in range(rounds):
            client.get(path)
        cpu = (time.process_time() - start) * 1000 / rounds
        print(f"{path:75} {cpu:6.2f} ms  {queries} queries")


if __name__ == "__main__":
    main()
