"""Server time of each page the load run asks for, one request at a time, in-process.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_load
    .venv/bin/python bench/load/page_cost.py

Requests go through Django's full middleware stack (test client, a demo salesperson signed in)
without gunicorn or the network, 30 times each after one warm-up; the mean is about what one
request costs a worker's core. The load run's throughput is bounded by these figures: two
cores serve at most 2000 / (mean ms) requests a second, less what PostgreSQL, locust and the
rest of the machine take.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from contacts.models import Contact  # noqa: E402
from segments.models import Segment  # noqa: E402

ROUNDS = 30


def main() -> None:
    client = Client()
    client.force_login(get_user_model().objects.get(username="anna"))
    contact = Contact.objects.filter(company__isnull=False).order_by("pk").first()
    segment = Segment.objects.order_by("pk").first()
    pages = [
        "/healthz",
        "/contacts/",
        "/contacts/?q=Ba",
        "/contacts/search/?q=B",
        f"/contacts/{contact.pk}/",
        "/interactions/entries/",
        f"/interactions/entries/?contact={contact.number}",
        "/interactions/drafts/",
        "/segments/",
        f"/segments/{segment.pk}/",
    ]
    means = []
    for path in pages:
        client.get(path)
        times = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            status = client.get(path).status_code
            times.append((time.perf_counter() - start) * 1000)
        mean = statistics.fmean(times)
        means.append(mean)
        median = statistics.median(times)
        print(f"{path:45s} {status}  mean {mean:6.1f} ms  median {median:6.1f} ms")
    pages_only = means[1:]
    print(f"mean over the pages (not /healthz): {statistics.fmean(pages_only):.1f} ms")


if __name__ == "__main__":
    main()
