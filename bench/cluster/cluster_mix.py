"""The load run's mix (bench/load/locustfile.py) plus a few users who build a small segment and
`Log` it, over and over, so that bench/cluster/run.sh's fault runs account for Log too.

A segment logger (``CLUSTER_LOGGERS`` of them, default 2, out of the run's users) creates a
segment, adds a company and its persons by criteria, assigns an interaction through the
segment's Create Interaction wizard (its defaults, a random template) and presses Log. Each
"Segment S logged as logged segment M: K interactions." is recorded with the segment, and a
Log that got no answer (status 0 or 5xx) with its segment, in a file next to the mix's
results (``finishes-logs.json`` beside ``finishes.json``).
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import threading
from pathlib import Path

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "load"))
import locustfile as mix  # the path above first
from html_forms import forms_of
from locustfile import Salesperson  # the mix's users run too

LOG_RESULTS = mix.RESULTS.with_name(mix.RESULTS.stem + "-logs.json")
LOGGED = re.compile(r"logged as logged segment (\d+): (\d+) interactions?\.")
_logs: list[dict] = []
_unanswered_logs: list[int] = []
_lock = threading.Lock()


def own_form(html: str) -> dict:
    """The page's own POST form (it posts to the page itself), not the header's."""
    forms = [f for f in forms_of(html) if f["method"] == "post" and not f["action"]]
    if not forms:
        raise LookupError("no form of the page's own")
    return max(forms, key=lambda form: len(form["fields"]))


def no_answer(page: mix.Page) -> bool:
    return page.status == 0 or page.status >= 500


class SegmentLogger(FastHttpUser):
    fixed_count = int(os.environ.get("CLUSTER_LOGGERS", "2"))
    wait_time = between(1, 3)
    go = Salesperson.go
    on_start = Salesperson.on_start

    @task
    def log_a_segment(self) -> None:
        letter = random.choice("ABCDEGHKLMNPRSTVW")
        found = json.loads(
            self.client.get(
                f"/contacts/search/?q={letter}&type=company", name="/contacts/search/?type=company"
            ).text
            or "[]"
        )
        if not found:
            return
        self.wait()
        page = self.go("/segments/new/", name="segment: new")
        fields = own_form(page.text)["fields"]
        fields["description"] = "Load run"
        segment = self.go("/segments/new/", name="segment: create", data=fields)
        match = re.fullmatch(r"/segments/(\d+)/", segment.path)
        if not match:
            return  # counted as a failed request, or a refusal the mix reports below
        number = int(match.group(1))
        self.wait()
        criteria = self.go(f"/segments/{number}/criteria/add/", name="segment: criteria")
        fields = own_form(criteria.text)["fields"]
        fields["company"] = random.choice(found)["number"]
        segment = self.go(f"/segments/{number}/criteria/add/", name="segment: add", data=fields)
        start = next(
            (f for f in forms_of(segment.text) if f["action"].endswith("/create-interaction/")),
            None,
        )
        if start is None:
            return
        page = self.go(start["action"], name="segment wizard: start", data=start["fields"])
        for _step in range(5):
            if "/wizard/" not in page.path:
                break
            self.wait()
            form = own_form(page.text)
            fields = form["fields"]
            template = next((k for k in fields if k.endswith("-template")), None)
            if template and not fields[template] and form["options"].get(template):
                fields[template] = random.choice([v for v in form["options"][template] if v])
            step = next((v for k, v in fields.items() if k.endswith("-current_step")), "?")
            page = self.go(page.path, name=f"segment wizard: {step}", data=fields)
            if no_answer(page):
                return
        self.wait()
        log = self.go(f"/segments/{number}/log/", name="segment: log page")
        logged = self.go(
            f"/segments/{number}/log/", name="segment: Log", data=own_form(log.text)["fields"]
        )
        if no_answer(logged):
            with _lock:
                _unanswered_logs.append(number)
            return
        found_logged = LOGGED.search(logged.text)
        if found_logged:
            with _lock:
                _logs.append(
                    {
                        "segment": number,
                        "logged": int(found_logged.group(1)),
                        "entries": int(found_logged.group(2)),
                    }
                )
        else:
            mix._failure(f"Log of segment {number} logged nothing (status {logged.status})")


@events.quitting.add_listener
def _write_logs(environment, **_kwargs) -> None:
    """Next to the mix's results file (whose listener may run before or after this one)."""
    LOG_RESULTS.write_text(
        json.dumps({"logs": _logs, "unanswered_logs": sorted(set(_unanswered_logs))})
    )
    print(f"Logs that logged a segment: {len(_logs)}; without an answer: {len(_unanswered_logs)}")
