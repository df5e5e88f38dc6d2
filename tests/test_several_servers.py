"""Two app servers, one database (issue 20): a user signed in through one server carries on on
the other, as behind a load balancer without sticky sessions.

Two real gunicorn processes (the repo's config, one worker each) share the test database and
one media folder; a small balancer (tests/balancer.py) in front of them decides which server
answers each request, and a real browser talks to the balancer only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from itertools import count
from pathlib import Path

import pytest
from django.conf import global_settings
from playwright.sync_api import expect

from contacts.models import CorrespondenceType
from interactions.models import InteractionLogEntry
from tests import factories
from tests.balancer import Balancer
from tests.database import subprocess_database_url
from tests.smtp_server import free_port

BASE_DIR = Path(__file__).resolve().parent.parent
GUNICORN_ARGS = ["--config", "crm_site/gunicorn.conf.py", "crm_site.wsgi"]

pytestmark = pytest.mark.django_db(transaction=True)


def status_of(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0  # not listening (yet, or any more)


def start_server(port: int, log: Path, media: Path, **env: str) -> subprocess.Popen:
    """gunicorn with the repo's config and one worker, on the test database; returns once
    /healthz answers 200."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS],
            cwd=BASE_DIR,
            env={
                **os.environ,
                "DATABASE_URL": subprocess_database_url(),
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "WEB_CONCURRENCY": "1",
                "MEDIA_ROOT": str(media),
                # No collectstatic here: plain static names instead of the manifest's.
                "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
                **env,
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers in its process group, stopped with it
        )
    for _ in range(600):  # a guard against hanging, not a timing assertion
        if process.poll() is not None or status_of(port, "/healthz") == 200:
            break
        time.sleep(0.1)
    assert status_of(port, "/healthz") == 200, log.read_text()
    return process


def stop(process: subprocess.Popen) -> None:
    """SIGKILL the server's whole process group: a killed master would leave its workers (and
    their database connections) behind."""
    with contextlib.suppress(ProcessLookupError):  # all gone already
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture
def servers(tmp_path, settings):
    """Two gunicorn servers on loopback; their (host, port)s."""
    media = tmp_path / "shared-media"
    settings.MEDIA_ROOT = media  # what this test reads through default_storage, too
    # The servers check passwords with the project's own hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    ports = [free_port(), free_port()]
    processes = []
    try:
        for n, port in enumerate(ports):
            processes.append(start_server(port, tmp_path / f"server-{n}.log", media))
        yield [("127.0.0.1", port) for port in ports]
    finally:
        for process in processes:
            stop(process)


@pytest.mark.browser
def test_signed_in_on_one_server_a_user_carries_on_on_the_other(servers, page, tmp_path):
    """Every POST goes to server A and every other request to server B, so each redirect after
    a form crosses over: B knows the session A's login made, shows the message A's Finish
    left, and serves the file uploaded through A."""
    owner = factories.SalespersonUserFactory(username="owner")
    factories.SalespersonFactory(code="OWN", name="Olivia Owner", user=owner)
    person = factories.PersonFactory(name="Pia Peters")
    template = factories.TemplateFactory(
        code="MAIL", description="Mail", correspondence_type=CorrespondenceType.EMAIL
    )
    factories.TemplateContentFactory(template=template, subject="Offer", body="Our offer")
    offer = tmp_path / "Offer 2026.txt"
    offer.write_text("our offer, in full")

    with Balancer(servers, lambda line: 0 if line.startswith("POST ") else 1) as balancer:
        page.goto(f"{balancer.url}/accounts/login/")
        page.get_by_label("Username").fill("owner")
        page.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator(".usermenu > summary")).to_be_visible()  # signed in: the user menu

        page.goto(f"{balancer.url}{person.get_absolute_url()}")
        page.get_by_role("button", name="Create Interaction").click()
        page.get_by_label("Interaction Template").select_option(label="MAIL Mail")
        page.get_by_role("button", name="Next").click()
        page.get_by_label("Attachment").set_input_files(offer)
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_role("heading", name="Related to")).to_be_visible()
        page.get_by_role("button", name="Next").click()
        page.get_by_role("button", name="Finish").click()
        expect(page.get_by_text("Interaction logged as entry")).to_be_visible()

        entry = InteractionLogEntry.objects.get()
        page.goto(f"{balancer.url}/interactions/entries/{entry.pk}/")
        with page.expect_download() as download:
            page.get_by_role("link", name="Offer 2026.txt").click()
        downloaded = Path(download.value.path()).read_text()
        posts, others = balancer.served

    assert downloaded == "our offer, in full"
    assert entry.contact == person
    assert entry.salesperson.user == owner
    assert all(line.startswith("POST ") for line in posts)
    assert {line.split()[1] for line in posts} >= {"/accounts/login/", "/interactions/create/"}
    assert not any(line.startswith("POST ") for line in others)
    assert f"GET /interactions/entries/{entry.pk}/ HTTP/1.1" in others


@pytest.mark.browser
def test_failed_logins_count_across_servers(servers, page):
    """Five wrong passwords, alternating between the servers, lock the account: the fifth
    answer is the lockout page, and the right password is refused on either server after."""
    factories.SalespersonUserFactory(username="owner")
    posts = count()

    def alternate_posts(line: str) -> int:
        return next(posts) % 2 if line.startswith("POST ") else 0

    def log_in(password: str) -> None:
        page.goto(f"{balancer.url}/accounts/login/")
        page.get_by_label("Username").fill("owner")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()

    locked = page.get_by_role("heading", name="Too many failed logins")
    with Balancer(servers, alternate_posts) as balancer:
        for _ in range(4):
            log_in("not the password")
            expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
        log_in("not the password")
        expect(locked).to_be_visible()
        log_in(factories.PASSWORD)
        expect(locked).to_be_visible()
        a, b = balancer.served

    assert [line.split()[:2] for line in a if line.startswith("POST ")] == [
        ["POST", "/accounts/login/"]
    ] * 3
    assert [line.split()[:2] for line in b if line.startswith("POST ")] == [
        ["POST", "/accounts/login/"]
    ] * 3


def test_a_draining_server_fails_its_health_check_but_serves_until_it_stops(tmp_path):
    """With GUNICORN_DRAIN_SECONDS, SIGTERM first makes /healthz answer 503 (the balancer takes
    the server out) while every other request is still served; a second SIGTERM (the drain
    timer's, here the test's: the drain is longer than the test) stops it gracefully."""
    port = free_port()
    log = tmp_path / "server.log"
    server = start_server(port, log, tmp_path, GUNICORN_DRAIN_SECONDS="600")
    try:
        server.send_signal(signal.SIGTERM)
        for _ in range(600):  # a guard against hanging, not a timing assertion
            if status_of(port, "/healthz") == 503:
                break
            time.sleep(0.1)
        assert status_of(port, "/healthz") == 503, log.read_text()
        assert status_of(port, "/accounts/login/") == 200
        assert server.poll() is None

        server.send_signal(signal.SIGTERM)
        assert server.wait(60) == 0
    finally:
        stop(server)
    assert status_of(port, "/healthz") == 0  # stopped listening
    assert "Draining: /healthz answers 503" in log.read_text()


def test_a_new_connection_wakes_one_idle_worker_and_sigterm_still_stops_them(tmp_path):
    """crm_site.gunicorn_worker: three idle workers wait on the one listening socket; each
    request (one connection, one at a time) wakes the worker that serves it and leaves the
    others asleep (gunicorn's select() woke all three), and SIGTERM still ends every worker's
    wait and stops the server with exit code 0."""
    port = free_port()
    log = tmp_path / "server.log"
    server = start_server(port, log, tmp_path, WEB_CONCURRENCY="3")
    try:
        workers = worker_pids(server.pid, 3)
        woken = []
        for _ in range(10):
            before = {pid: sleeps(pid) for pid in workers}
            assert status_of(port, "/healthz") == 200
            time.sleep(0.2)  # the served worker back in its wait
            woken.append(sum(sleeps(pid) != before[pid] for pid in workers))
        # epoll may wake more than one waiter now and then; select() woke all three, always.
        assert sum(woken) <= 15, woken

        server.send_signal(signal.SIGTERM)
        assert server.wait(60) == 0
    finally:
        stop(server)
    assert status_of(port, "/healthz") == 0


def worker_pids(master: int, expected: int) -> list[int]:
    """The master's worker processes, once all ``expected`` have booted."""
    for _ in range(600):  # a guard against hanging, not a timing assertion
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if len(children) == expected:
            return [int(pid) for pid in children]
        time.sleep(0.1)
    raise AssertionError(f"{len(children)} workers, not {expected}")


def sleeps(pid: int) -> int:
    """How often the process has waited for something (its voluntary context switches)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    raise AssertionError(f"no voluntary_ctxt_switches for {pid}")
