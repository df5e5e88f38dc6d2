"""Queries and app CPU of whole Create Interaction journeys, in-process (issue 14).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_load   # seed_demo's data
    .venv/bin/python bench/load/wizard_journey.py [--rounds 20]

The contact journey is `page_cost.wizard_journey` (user anna, every step posted with its
defaults, then the contact card); the segment journey is the same from segment 1's Create
Interaction as the Marketing Manager, up to `Finish`. Prints each request's queries once and
the median app CPU of a journey over ROUNDS (compare versions by alternating runs).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import page_cost  # sets Django up
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from html_forms import post_form

from contacts.models import Contact
from interactions.models import InteractionTemplate
from segments.models import Segment


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def segment_journey(client: Client, meter: page_cost.Meter, segment, template_id: int) -> None:
    url = f"/segments/{segment.pk}/create-interaction/"
    path = meter.measure("segment: start (POST)", client.post, url)["Location"]
    for _step in range(6):
        page = meter.measure("segment: step (GET)", client.get, path)
        form = post_form(page.content.decode())
        fields = form["fields"]
        if fields.get("type-template") == "":
            fields["type-template"] = str(template_id)
        step = next(value for key, value in fields.items() if key.endswith("-current_step"))
        response = meter.measure(f"segment: {step} (POST)", page_cost.submit, client, path, form)
        assert response.status_code == 302, (step, response.status_code)
        path = urlsplit(response["Location"]).path
        if "/wizard/" not in path:
            return
    raise AssertionError("the segment wizard did not finish")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    contact = Contact.objects.filter(company__isnull=False, privacy_blocked=False).order_by("pk")[0]
    template = InteractionTemplate.objects.filter(contents__isnull=False).order_by("pk")[0]
    segment = Segment.objects.filter(status="open").order_by("pk")[0]
    anna, manager = signed_in("anna"), signed_in("manager")
    journeys = {
        "contact": lambda meter: page_cost.wizard_journey(anna, meter, contact, template.pk),
        "segment": lambda meter: segment_journey(manager, meter, segment, template.pk),
    }
    for name, journey in journeys.items():
        meter = page_cost.Meter()
        with connection.execute_wrapper(meter.counter):
            journey(page_cost.Meter())  # warm-up
            journey(meter)
            for request, rows in meter.samples.items():
                print(f"{request:40s} {[row[2] for row in rows]}")
            total = sum(row[2] for rows in meter.samples.values() for row in rows)
            print(f"{name} journey: {total} queries")
            times = []
            for _ in range(rounds):
                start = time.process_time()
                journey(page_cost.Meter())
                times.append((time.process_time() - start) * 1000)
        print(f"{name} journey: app CPU median {statistics.median(times):.1f} ms ({rounds} runs)")


if __name__ == "__main__":
    main()
