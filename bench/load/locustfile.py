"""Load run: simulated salespeople doing the main journeys against gunicorn on loopback.

Run by hand (never in CI), through ``bench/load/run.sh``, which seeds nothing itself: it
counts rows before and after, starts gunicorn and locust, and compares. Each simulated user
logs in once through the login form (as one of the demo accounts of ``seed_demo``), then does
one journey after another, with 1-3 s of think time before every page it asks for (a person
reads a page before the next click):

- the contact list, a search by name prefix, the JSON picker search and a contact card;
- the log entry list, unfiltered and filtered (salesperson + a month, a template, one contact);
- the Create Interaction wizard from a contact card (its button posts the start form) to
  `Finish` (every step posted with what a person would leave as the defaults; the template
  picked at random);
- the postponed interactions list;
- a segment page.

Every `Finish` that lands on the contact card with "Interaction logged as entry N" is counted;
at the end the script prints how many entries it logged and which entry numbers, so that
``run.sh`` can compare them with the rows the database gained.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from html_forms import forms_of, post_form

ACCOUNTS = os.environ.get("LOAD_ACCOUNTS", "anna,bram,chloe,daan,emma,finn,manager").split(",")
PASSWORD = os.environ.get("LOAD_PASSWORD", "demo")
RESULTS = Path(os.environ.get("LOAD_RESULTS", "crm-load-finishes.json"))

LOGGED = re.compile(r"Interaction logged as entry (\d+)")
_finished: list[int] = []
_unanswered: list[str] = []  # drafts whose wizard step got no answer (status 0 or 5xx)
_finish_lock = threading.Lock()
_account = iter(range(1_000_000))


class Page:
    """A response after its redirects, with the path it ended on."""

    def __init__(self, path: str, response) -> None:
        self.path = path
        self.text = response.text or ""
        self.status = response.status_code


class Salesperson(FastHttpUser):
    wait_time = between(1, 3)

    def go(self, path: str, *, name: str, data: dict | None = None) -> Page:
        """GET (or POST ``data`` as a form) and follow redirects by hand, each hop reported
        under its own name: the pages a person's browser would load."""
        if data is None:
            response = self.client.get(path, name=name, allow_redirects=False)
        else:
            response = self.client.post(
                path,
                data=urlencode(data, doseq=True),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                name=name,
                allow_redirects=False,
            )
        hops = 0
        while response.status_code in (301, 302, 303) and hops < 5:
            location = urlsplit(response.headers["Location"])
            path = location.path + (f"?{location.query}" if location.query else "")
            response = self.client.get(path, name=f"{name} -> redirect", allow_redirects=False)
            hops += 1
        return Page(path, response)

    def on_start(self) -> None:
        self.username = ACCOUNTS[next(_account) % len(ACCOUNTS)]
        page = self.go("/accounts/login/", name="login page")
        form = post_form(page.text)
        form["fields"].update(username=self.username, password=PASSWORD)
        landed = self.go("/accounts/login/", name="login", data=form["fields"])
        if landed.path.startswith("/accounts/login/"):
            raise RuntimeError(f"login as {self.username} failed")
        self.contacts: list[dict] = []
        self.segments: list[str] = []
        self.filters: dict[str, list[str]] = {}

    # --- what the journeys pick from --------------------------------------------------------

    def some_contacts(self) -> list[dict]:
        if not self.contacts:
            letter = random.choice("ABCDEFGHKLMNPRSTVW")
            response = self.client.get(
                f"/contacts/search/?q={letter}", name="/contacts/search/?q=[letter]"
            )
            self.contacts = json.loads(response.text or "[]")
        return self.contacts

    def entry_filters(self) -> dict[str, list[str]]:
        if not self.filters:
            page = self.go("/interactions/entries/", name="/interactions/entries/")
            form = next(f for f in forms_of(page.text) if "salesperson" in f["options"])
            self.filters = {
                key: [value for value in values if value] for key, values in form["options"].items()
            }
        return self.filters

    # --- journeys ---------------------------------------------------------------------------

    @task(4)
    def contacts(self) -> None:
        self.client.get("/contacts/", name="/contacts/")
        self.wait()
        prefix = random.choice(["Ba", "De", "Ma", "Jan", "Van", "Sch", "Ro", "Ka"])
        self.client.get(f"/contacts/?q={prefix}", name="/contacts/?q=[prefix]")
        found = self.some_contacts()
        if found:
            self.wait()
            contact = random.choice(found)
            self.client.get(f"/contacts/{contact['id']}/", name="/contacts/[id]/")

    @task(4)
    def entries(self) -> None:
        filters = self.entry_filters()
        self.client.get("/interactions/entries/", name="/interactions/entries/")
        self.wait()
        today = datetime.datetime.now(tz=datetime.UTC).date()
        month = (today - datetime.timedelta(days=30 * random.randint(0, 11))).replace(day=1)
        if filters.get("salesperson"):
            self.client.get(
                "/interactions/entries/",
                params={
                    "salesperson": random.choice(filters["salesperson"]),
                    "date_from": month.isoformat(),
                    "date_to": (month + datetime.timedelta(days=27)).isoformat(),
                },
                name="/interactions/entries/?salesperson&month",
            )
            self.wait()
        if filters.get("template"):
            self.client.get(
                "/interactions/entries/",
                params={"template": random.choice(filters["template"])},
                name="/interactions/entries/?template",
            )
            self.wait()
        found = self.some_contacts()
        if found:
            self.client.get(
                "/interactions/entries/",
                params={"contact": random.choice(found)["number"]},
                name="/interactions/entries/?contact",
            )

    @task(3)
    def create_interaction(self) -> None:
        found = self.some_contacts()
        if not found:
            return
        contact = random.choice(found)
        # From the contact card: its Create Interaction button posts the start form.
        card = self.go(f"/contacts/{contact['id']}/", name="/contacts/[id]/")
        start = next(
            (form for form in forms_of(card.text) if form["action"] == "/interactions/create/"),
            None,
        )
        if start is None:
            return  # e.g. a privacy-blocked contact: the card offers no Create Interaction
        page = self.go("/interactions/create/", name="wizard: start", data=start["fields"])
        if "/wizard/" not in page.path:
            return  # e.g. a privacy-blocked contact: the card says why, nothing to finish
        for _step in range(6):
            self.wait()  # filling in the step
            form = post_form(page.text)
            fields = form["fields"]
            template = fields.get("type-template")
            if template == "" and form["options"].get("type-template"):
                choices = [value for value in form["options"]["type-template"] if value]
                fields["type-template"] = random.choice(choices)
            step = next(
                (value for key, value in fields.items() if key.endswith("-current_step")), "?"
            )
            landed = self.go(page.path, name=f"wizard: {step}", data=fields)
            if landed.status >= 500 or landed.status == 0:
                # No answer (a server died or lost its database mid-request; counted as a
                # failed request): the step may or may not have been done. run.sh and
                # bench/cluster accept an entry of this draft as that Finish's, once.
                with _finish_lock:
                    _unanswered.append(page.path.split("/wizard/")[1].split("/")[0])
                return
            if "/wizard/" in landed.path:
                if "errorlist" in landed.text:
                    _failure(f"wizard step {step} refused its own defaults")
                    return
                page = landed
                continue
            logged = LOGGED.search(landed.text)
            if logged:
                with _finish_lock:
                    _finished.append(int(logged.group(1)))
            else:
                _failure("Finish did not log an entry")
            return

    @task(2)
    def postponed(self) -> None:
        self.client.get("/interactions/drafts/", name="/interactions/drafts/")

    @task(2)
    def segment(self) -> None:
        if not self.segments:
            page = self.go("/segments/", name="/segments/")
            self.segments = sorted(set(re.findall(r'href="(/segments/\d+/)"', page.text)))
        if self.segments:
            self.client.get(random.choice(self.segments), name="/segments/[id]/")


_failures: list[str] = []
# Response times (ms) once every user has logged in: the steady state the targets are about.
# Logging in costs ~0.7 s of CPU (PBKDF2, 1,000,000 rounds) and happens only while spawning.
_steady: list[float] = []
_spawned = threading.Event()
# "failed": each failed request's name, error and wall-clock start and end (epoch seconds), so
# that bench/cluster can tell a request in flight at a fault from one that failed later.
_errors = {"count": 0, "requests": 0, "failed": []}


@events.spawning_complete.add_listener
def _all_spawned(user_count: int, **_kwargs) -> None:
    _spawned.set()


@events.request.add_listener
def _record(request_type, name, response_time, exception, **_kwargs) -> None:
    _errors["requests"] += 1
    if exception is not None:
        _errors["count"] += 1
        end = time.time()
        _errors["failed"].append(
            {
                "name": f"{request_type} {name}",
                "error": type(exception).__name__,
                "start": end - response_time / 1000,
                "end": end,
            }
        )
    elif _spawned.is_set():
        _steady.append(response_time)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _failure(message: str) -> None:
    """A journey that went wrong without an HTTP error: counted, printed at the end."""
    with _finish_lock:
        _failures.append(message)


@events.quitting.add_listener
def _write_finishes(environment, **_kwargs) -> None:
    steady = {
        "requests": len(_steady),
        "p50_ms": round(_percentile(_steady, 0.50)),
        "p95_ms": round(_percentile(_steady, 0.95)),
        "p99_ms": round(_percentile(_steady, 0.99)),
        "max_ms": round(max(_steady, default=0)),
    }
    RESULTS.write_text(
        json.dumps(
            {
                "finished": len(_finished),
                "entries": sorted(_finished),
                "unanswered_drafts": sorted(set(_unanswered)),
                "failures": _failures,
                "errors": _errors,
                "steady": steady,
            }
        )
    )
    print(f"Requests: {_errors['requests']}, failed: {_errors['count']}")
    print(
        "Once every user had logged in: {requests} requests, p50 {p50_ms} ms, "
        "p95 {p95_ms} ms, p99 {p99_ms} ms, max {max_ms} ms".format(**steady)
    )
    print(f"Finishes that logged an entry: {len(_finished)} (written to {RESULTS})")
    print(f"Journeys that went wrong without an HTTP error: {len(_failures)}")
    if _failures or _errors["count"]:
        environment.process_exit_code = 1
