"""Server-side latency of the interaction pages next to a trivial view, through gunicorn.

Run against a database seeded at scale (see docs/benchmarks.md for the exact commands)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench4 \\
        .venv/bin/python bench/page_latency.py --rounds 200

It starts gunicorn (one sync worker) on loopback, logs in once through the login form, then
requests every page ``--rounds`` times, round-robin so that each page sees the same machine
noise. Latency is read from gunicorn's access log (``%(D)s``: from the request arriving to the
response written), so it is the server's time, not the client's. Each page's median and p95 are
printed next to those of ``/healthz`` (a view that runs ``SELECT 1``) measured in the same run,
with the ratio of the medians. Last, the unfiltered CSV export streams every entry while the
worker's resident memory is sampled; its peak is printed.

``--pages search`` measures the contact search instead (the list and the JSON picker, one- and
two-word searches, one letter included) against its own target, p95 <= 50 ms::

    DATABASE_URL=... .venv/bin/python bench/page_latency.py --pages search --rounds 200

``--pages growth`` measures the pages whose cost could grow with a table they do not show
(issue 19): a 100,000-line segment's first and last page, the Segments list, the contact list's
first and last page, one-letter search and its JSON picker, and every statistics page. It needs
a segment of 100,000 lines; ``--make-segment`` adds one (all contacts, one statement) first::

    DATABASE_URL=... .venv/bin/python bench/page_latency.py --pages growth --make-segment
    DATABASE_URL=... .venv/bin/python bench/page_latency.py --pages growth --rounds 200

``--pages statistics`` measures the contact card of the busiest company, the salesperson card,
the template page and the group page of the busiest of each, all time and for a year with ends
mid-month, against the same targets::

    DATABASE_URL=... .venv/bin/python bench/page_latency.py --pages statistics --rounds 60

``--pages contacts`` measures the contact list (issue 19, part H): first, 50,000 rows in and
last pages, filtered and not, by name and by number, two searches, the JSON picker and an old
numbered link::

    DATABASE_URL=... .venv/bin/python bench/page_latency.py --pages contacts --rounds 60

A page 50,000 rows in is ``?page=1000`` where the list has numbered pages, else the Next link
from the contact before it. A last page is the page's own "Last" link when it has one, else
``?page=`` its number.

Nothing is written to the database except the login's session row (and ``--make-segment``'s
segment).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")


# --- Picking what to ask for ----------------------------------------------------------------


@dataclass
class Subjects:
    """The busiest salesperson, template, group and company: the worst cases of each page."""

    entries: int
    contact: str  # a person's number
    company_pk: int
    salesperson_pk: int
    salesperson_code: str
    month: tuple[str, str]
    template_pk: int
    template_code: str
    group_pk: int
    entry_pk: int


def pick_subjects() -> Subjects:
    import django

    django.setup()
    from django.db.models import Count

    from contacts.models import Contact
    from interactions.models import InteractionLogEntry

    entries = InteractionLogEntry.objects

    def busiest(column: str) -> int:
        row = entries.values(column).annotate(n=Count("id")).order_by("-n").first()
        if row is None:
            raise SystemExit("The database has no interaction log entries: seed it first.")
        return row[column]

    salesperson_pk = busiest("salesperson")
    template_pk = busiest("template")
    newest = entries.filter(salesperson_id=salesperson_pk).order_by("-date").first()
    # The last full month of that salesperson's history.
    month_end = newest.date.replace(day=1) - datetime.timedelta(days=1)
    month_start = month_end.replace(day=1)
    company = Contact.objects.get(pk=busiest("contact_company"))
    person = (
        entries.filter(contact__type="person")
        .values_list("contact__number", flat=True)
        .order_by("-date", "-id")
        .first()
    )
    entry = entries.filter(comments__isnull=False).order_by("-id").first() or entries.first()
    return Subjects(
        entries=entries.count(),
        contact=person,
        company_pk=company.pk,
        salesperson_pk=salesperson_pk,
        salesperson_code=newest.salesperson.code,
        month=(month_start.isoformat(), month_end.isoformat()),
        template_pk=template_pk,
        template_code=entries.filter(template_id=template_pk).first().template.code,
        group_pk=busiest("group"),
        entry_pk=entry.pk,
    )


def pages(s: Subjects) -> dict[str, str]:
    month = {"date_from": s.month[0], "date_to": s.month[1]}
    return {
        "trivial view (/healthz)": "/healthz",
        "entry list, unfiltered": "/interactions/entries/",
        "entry list, one contact": "/interactions/entries/?" + urlencode({"contact": s.contact}),
        "entry list, salesperson + month": "/interactions/entries/?"
        + urlencode({"salesperson": s.salesperson_code, **month}),
        "entry list, one template": "/interactions/entries/?"
        + urlencode({"template": s.template_code}),
        "contact card (busiest company)": f"/contacts/{s.company_pk}/",
        "salesperson card (busiest)": f"/contacts/salespeople/{s.salesperson_pk}/",
        "salesperson card + month": f"/contacts/salespeople/{s.salesperson_pk}/?"
        + urlencode(month),
        "template page (busiest)": f"/interactions/templates/{s.template_pk}/",
        "group page (busiest)": f"/interactions/groups/{s.group_pk}/",
        "entry page": f"/interactions/entries/{s.entry_pk}/",
    }


def search_pages() -> dict[str, str]:
    """Contact searches: the list (50 best matches and the count) and the JSON picker (20).

    The words come from the data: the most common surname, a person's first name and surname,
    a word of a company's name with a person's initial; plus fixed ones ("m" matches about a
    third of the contacts, "e" every one of them through "example" in the email addresses).
    """
    import django

    django.setup()
    from django.db.models import Count

    from contacts.models import Contact

    persons = Contact.objects.filter(type="person")
    surname = persons.values("surname").annotate(n=Count("id")).order_by("-n")[0]["surname"]
    someone = persons.exclude(first_name="").order_by("number")[len(surname)]
    company_word = someone.company.name.split()[0]
    searches = {
        "M": "m",
        "E (every contact)": "e",
        surname: surname.lower(),
        "muller (accents)": "muller",
        f"{someone.first_name} {someone.surname}": f"{someone.first_name} {someone.surname}",
        f"{company_word} + initial": f"{company_word} {someone.first_name[0]}",
        "de v": "de v",
    }
    urls = {"trivial view (/healthz)": "/healthz", "list: no words (by name)": "/contacts/"}
    for name, text in searches.items():
        urls[f"list: {name}"] = "/contacts/?" + urlencode({"q": text})
    for name in ("M", "de v"):
        urls[f"picker: {name}"] = "/contacts/search/?" + urlencode({"q": searches[name]})
    return urls


BIG_SEGMENT = "Benchmark: every contact"


def make_big_segment() -> None:
    """An open segment with a line for every contact (100,000 at that scale), unless one is
    there; one INSERT ... SELECT through the segment service's own statement."""
    import django

    django.setup()
    from django.db import transaction

    from contacts.models import Contact
    from segments import services
    from segments.models import Segment

    if Segment.objects.filter(description=BIG_SEGMENT).exists():
        return
    with transaction.atomic():
        segment = Segment.objects.create(
            number=services._next_segment_number(), description=BIG_SEGMENT
        )
        services._add_contacts(segment, user=None, contacts=Contact.objects.all())


def growth_pages(s: Subjects) -> dict[str, str]:
    """Pages whose cost could grow with a table they do not show (issue 19)."""
    import django

    django.setup()
    from segments.models import Segment

    segment = Segment.objects.filter(description=BIG_SEGMENT).first()
    if segment is None:
        raise SystemExit("No 100,000-line segment: run with --make-segment once.")
    return {
        "trivial view (/healthz)": "/healthz",
        "segment, 100,000 lines, first page": f"/segments/{segment.pk}/",
        "segment, 100,000 lines, last page": f"/segments/{segment.pk}/#last",
        "Segments list": "/segments/",
        "contact list, first page": "/contacts/",
        "contact list, 50,000 in": "/contacts/#deep",
        "contact list, last page": "/contacts/#last",
        "contact search ?q=M": "/contacts/?q=m",
        "contact picker ?q=M (JSON)": "/contacts/search/?q=m",
        "contact card (busiest company)": f"/contacts/{s.company_pk}/",
        "salesperson card (busiest)": f"/contacts/salespeople/{s.salesperson_pk}/",
        "template page (busiest)": f"/interactions/templates/{s.template_pk}/",
        "group page (busiest)": f"/interactions/groups/{s.group_pk}/",
        "entry list, unfiltered": "/interactions/entries/",
    }


def statistics_pages(s: Subjects) -> dict[str, str]:
    """The statistics pages (issue 19, part C): all time, and a year with ends mid-month (so
    both the month rows and the day rows at its ends are read)."""
    last_month = datetime.date.fromisoformat(s.month[0])
    year = urlencode(
        {
            "date_from": (last_month - datetime.timedelta(days=365)).replace(day=15).isoformat(),
            "date_to": last_month.replace(day=14).isoformat(),
        }
    )
    return {
        "trivial view (/healthz)": "/healthz",
        "contact card (busiest company)": f"/contacts/{s.company_pk}/",
        "contact card, a year": f"/contacts/{s.company_pk}/?{year}",
        "salesperson card (busiest)": f"/contacts/salespeople/{s.salesperson_pk}/",
        "salesperson card, a year": f"/contacts/salespeople/{s.salesperson_pk}/?{year}",
        "template page (busiest)": f"/interactions/templates/{s.template_pk}/",
        "template page, a year": f"/interactions/templates/{s.template_pk}/?{year}",
        "group page (busiest)": f"/interactions/groups/{s.group_pk}/",
        "group page, a year": f"/interactions/groups/{s.group_pk}/?{year}",
    }


def contacts_pages() -> dict[str, str]:
    """The contact list (issue 19, part H): first, deep (50,000 rows in) and last pages, by
    name and by number, all contacts and persons only; a salesperson's and a company's
    contacts; two searches and the JSON picker; an old numbered link."""
    import django

    django.setup()
    from django.db.models import Count

    from contacts.models import Contact

    company = (
        Contact.objects.filter(type="person")
        .values("company_id")
        .annotate(n=Count("id"))
        .order_by("-n")[0]["company_id"]
    )
    salesperson = Contact.objects.exclude(salesperson=None).values("salesperson_id")[0]
    return {
        "trivial view (/healthz)": "/healthz",
        "list, first page": "/contacts/",
        "list, 50,000 in": "/contacts/#deep",
        "list, last page": "/contacts/#last",
        "persons, first page": "/contacts/?type=person",
        "persons, 50,000 in": "/contacts/?type=person#deep",
        "persons, last page": "/contacts/?type=person#last",
        "by number descending, 50,000 in": "/contacts/?sort=-number#deep",
        "a salesperson's, last page": f"/contacts/?salesperson={salesperson['salesperson_id']}"
        "#last",
        "a company's persons": f"/contacts/?company={company}",
        "search ?q=Ba": "/contacts/?q=Ba",
        "search ?q=M": "/contacts/?q=m",
        "picker ?q=B (JSON)": "/contacts/search/?q=B",
        "old link ?page=20": "/contacts/?page=20",
    }


DEPTH = 50_000


def resolve_deep_pages(server, cookies, urls: dict[str, str]) -> dict[str, str]:
    """``#deep`` URLs become the page `DEPTH` rows in: a Next link from the contact just
    before it (keyset links), or ``?page=`` its number where the list has numbered pages."""
    from urllib.parse import parse_qsl

    from contacts.models import Contact
    from contacts.selectors import CONTACT_ORDERS

    resolved = {}
    for name, url in urls.items():
        if url.endswith("#deep"):
            base = url.removesuffix("#deep")
            query = dict(parse_qsl(base.partition("?")[2]))
            _status, _headers, body = request(server, base, cookies=cookies)
            joiner = "&" if "?" in base else "?"
            if re.search(r"Page \d+ of \d+", body.decode()):
                url = f"{base}{joiner}page={DEPTH // 50}"
            else:
                contacts = Contact.objects.filter(
                    **({"type": query["type"]} if "type" in query else {})
                ).order_by(*CONTACT_ORDERS[query.get("sort", "name")])
                before = contacts.values_list("number", flat=True)[DEPTH - 1]
                url = f"{base}{joiner}{urlencode({'after': before})}"
        resolved[name] = url
    return resolved


LAST_LINK = re.compile(r'<a [^>]*href="([^"]*)"[^>]*>\s*(?:Last|Laatste)')


def resolve_last_pages(server, cookies, urls: dict[str, str]) -> dict[str, str]:
    """``#last`` URLs become the page's "Last" link, or ``?page=`` the last number."""
    import html
    import math

    resolved = {}
    for name, url in urls.items():
        if url.endswith("#last"):
            base = url.removesuffix("#last")
            _status, _headers, body = request(server, base, cookies=cookies)
            found = LAST_LINK.search(body.decode())
            if found:
                link = html.unescape(found.group(1))
                # A link that is a query string alone replaces the base's query.
                url = base.partition("?")[0] + link if link.startswith("?") else link
            else:
                numbers = [int(n) for n in re.findall(r"Page \d+ of (\d+)", body.decode())]
                url = f"{base}?page={numbers[0] if numbers else math.inf}"
        resolved[name] = url
    return resolved


# --- The server -----------------------------------------------------------------------------


@dataclass
class Server:
    port: int
    log: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def worker_pid(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(children.read_text().split()[0])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def start_server(port: int, workdir: Path) -> Server:
    log = workdir / "access.log"
    env = {
        **os.environ,
        "DEBUG": "False",
        # The manifest storage needs `collectstatic`; page timings do not depend on it.
        "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "DB_APPLICATION_NAME": "crm-bench",
    }
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "--config",
        str(ROOT / "crm_site/gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--max-requests",
        "0",
        "--timeout",
        "900",
        "--access-logfile",
        str(log),
        "--access-logformat",
        "%(s)s %(D)s %(U)s",
        "crm_site.wsgi",
    ]
    # Our own gunicorn from the virtualenv, with fixed arguments.
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)  # noqa: S603
    server = Server(port, log, process)
    for _ in range(100):
        try:
            status, _headers, _body = request(server, "/healthz")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise SystemExit("gunicorn did not answer on /healthz")


def request(server: Server, path: str, *, cookies=None, method="GET", body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=900)
    all_headers = {"Host": "127.0.0.1", **(headers or {})}
    if cookies:
        all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    connection.request(method, path, body=body, headers=all_headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, response.getheaders(), data


def log_in(server: Server, username: str, password: str) -> dict[str, str]:
    """One login through the form; returns the session and CSRF cookies."""
    status, headers, body = request(server, "/accounts/login/")
    cookies = _cookies(headers)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    status, headers, _body = request(
        server,
        "/accounts/login/",
        cookies=cookies,
        method="POST",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    cookies.update(_cookies(headers))
    if status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"login as {username!r} failed (HTTP {status})")
    return cookies


def _cookies(headers) -> dict[str, str]:
    jar = SimpleCookie()
    for name, value in headers:
        if name.lower() == "set-cookie":
            jar.load(value)
    return {key: morsel.value for key, morsel in jar.items()}


def server_times(server: Server, skip: int) -> list[tuple[str, int, float]]:
    """(path, status, milliseconds) of the access log lines after the first ``skip``."""
    lines = server.log.read_text().splitlines()[skip:]
    rows = []
    for line in lines:
        status, micros, path = line.split(" ", 2)
        rows.append((path, int(status), int(micros) / 1000))
    return rows


# --- Measuring ------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def measure_pages(server: Server, cookies, urls: dict[str, str], rounds: int, warmup: int):
    for _ in range(warmup):
        for url in urls.values():
            status, _h, _b = request(server, url, cookies=cookies)
            if status != 200:
                raise SystemExit(f"{url} answered HTTP {status}")
    time.sleep(0.2)
    skip = len(server.log.read_text().splitlines())
    for _ in range(rounds):
        for url in urls.values():
            request(server, url, cookies=cookies)
    time.sleep(0.2)
    times: dict[str, list[float]] = {name: [] for name in urls}
    by_path = {url.split("?")[0]: name for name, url in urls.items()}
    rows = server_times(server, skip)
    # Requests are sequential, so the log lines come in the order they were sent.
    names = [name for _ in range(rounds) for name in urls]
    if len(rows) != len(names):
        raise SystemExit(f"expected {len(names)} access log lines, found {len(rows)}")
    for name, (path, status, millis) in zip(names, rows, strict=True):
        if status != 200 or by_path.get(path) is None:
            raise SystemExit(f"unexpected log line for {name}: {path} {status}")
        times[name].append(millis)
    return times


def rss_kib(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def measure_export(server: Server, cookies) -> dict:
    """Stream the unfiltered CSV export; count its rows and sample the worker's memory."""
    pid = server.worker_pid
    before = rss_kib(pid, "VmRSS")
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(pid, "VmRSS"))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=900)
    connection.request(
        "GET",
        "/interactions/entries/export.csv",
        headers={
            "Host": "127.0.0.1",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        },
    )
    response = connection.getresponse()
    first_byte = None
    size = lines = 0
    last = b""
    while chunk := response.read(1 << 16):
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(chunk)
        # A line ends in CRLF (csv's default); one may straddle two reads.
        lines += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
        last = chunk[-1:]
    elapsed = time.perf_counter() - started
    connection.close()
    done.set()
    sampler.join()
    return {
        "status": response.status,
        "rows": lines - 1,  # the header line
        "megabytes": size / 1e6,
        "seconds": elapsed,
        "first_byte_seconds": first_byte or 0.0,
        "rss_before_mb": before / 1024,
        "rss_peak_mb": max(peak[0], rss_kib(pid, "VmHWM")) / 1024,
    }


# --- Report ---------------------------------------------------------------------------------


def report(
    times: dict[str, list[float]],
    export: dict | None,
    subjects: Subjects,
    rounds: int,
    *,
    p95_target: float = 100,
    ratio_target: float = 10,
):
    baseline_name = next(iter(times))
    baseline = statistics.median(times[baseline_name])
    print(f"\n{subjects.entries:,} log entries; {rounds} requests per page, server-side ms\n")
    header = f"| {'page':<34} | median | p95    | max    | median / trivial |"
    print(header)
    print("|" + "|".join("-" * (len(part)) for part in header.split("|")[1:-1]) + "|")
    failures = []
    for name, values in times.items():
        median = statistics.median(values)
        p95 = percentile(values, 95)
        ratio = median / baseline
        print(f"| {name:<34} | {median:6.1f} | {p95:6.1f} | {max(values):6.1f} | {ratio:15.1f}x |")
        over_ratio = p95_target >= 100 and ratio > ratio_target
        if name != baseline_name and (p95 > p95_target or over_ratio):
            failures.append(name)
    if export:
        print(
            f"\nCSV export: HTTP {export['status']}, {export['rows']:,} rows, "
            f"{export['megabytes']:.0f} MB in {export['seconds']:.1f} s "
            f"(first byte after {export['first_byte_seconds']:.2f} s); worker memory "
            f"{export['rss_before_mb']:.0f} MB before, peak {export['rss_peak_mb']:.0f} MB"
        )
        if export["rss_peak_mb"] > 200:
            failures.append("CSV export memory")
        if export["rows"] != subjects.entries:
            failures.append(f"CSV export rows ({export['rows']:,} of {subjects.entries:,})")
    if p95_target < 100:
        print(f"\nTarget: p95 <= {p95_target:g} ms.")
    else:
        print(
            f"\nTargets: p95 <= 100 ms, median <= {ratio_target:g}x trivial"
            + ("; export peak < 200 MB." if export else ".")
        )
    print("Missed: " + ", ".join(failures) if failures else "Every target met.")
    return not failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="requests per page (200)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured rounds first (5)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--username", default="manager")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--skip-export", action="store_true", help="pages only")
    parser.add_argument(
        "--pages",
        choices=["interactions", "search", "growth", "statistics", "contacts"],
        default="interactions",
        help="the interaction pages and the export (default), or the contact search",
    )
    parser.add_argument(
        "--make-segment", action="store_true", help="add the 100,000-line segment if missing"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("Set DATABASE_URL to the seeded database.")
    if args.make_segment:
        make_big_segment()

    subjects = pick_subjects()
    print(subjects)
    with tempfile.TemporaryDirectory() as workdir:
        server = start_server(args.port, Path(workdir))
        try:
            cookies = log_in(server, args.username, args.password)
            search = args.pages == "search"
            if args.pages == "growth":
                urls = resolve_last_pages(server, cookies, growth_pages(subjects))
                urls = resolve_deep_pages(server, cookies, urls)
                print("\n".join(f"{name}: {url}" for name, url in urls.items()))
            elif args.pages == "contacts":
                urls = resolve_last_pages(server, cookies, contacts_pages())
                urls = resolve_deep_pages(server, cookies, urls)
                print("\n".join(f"{name}: {url}" for name, url in urls.items()))
            elif args.pages == "statistics":
                urls = statistics_pages(subjects)
                print("\n".join(f"{name}: {url}" for name, url in urls.items()))
            else:
                urls = search_pages() if search else pages(subjects)
            times = measure_pages(server, cookies, urls, args.rounds, args.warmup)
            skip_export = args.skip_export or args.pages != "interactions"
            export = None if skip_export else measure_export(server, cookies)
        finally:
            server.stop()
    ok = report(
        times,
        export,
        subjects,
        args.rounds,
        p95_target=50 if search else 100,
        # issue 19's target for these pages
        ratio_target=5 if args.pages in ("growth", "statistics", "contacts") else 10,
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
