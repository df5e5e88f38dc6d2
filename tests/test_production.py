"""Running in production: the gunicorn config, JSON logs, static files, and no local state
(issue 7, docs/operations.md)."""

from __future__ import annotations

import datetime
import io
import json
import logging
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm_site.log_format import JsonFormatter
from interactions.models import InteractionDraft, InteractionLogEntry
from tests import factories
from tests.database import subprocess_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

# --- gunicorn -------------------------------------------------------------------------------------


def gunicorn_config(monkeypatch, **env) -> dict:
    for key in ("WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "GUNICORN_BIND", "LOG_FORMAT"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(BASE_DIR / "crm_site" / "gunicorn.conf.py"))


def test_gunicorn_runs_two_workers_per_core_plus_one_with_timeouts_and_an_access_log(
    monkeypatch,
):
    config = gunicorn_config(monkeypatch)
    assert config["workers"] == os.cpu_count() * 2 + 1
    assert config["bind"] == "127.0.0.1:8000"
    assert config["timeout"] >= 60
    assert config["graceful_timeout"] > 0
    assert config["accesslog"] == "-"
    assert config["max_requests"] > 0
    assert config["logger_class"] == "crm_site.gunicorn_logging.Logger"
    assert config["worker_class"] == "crm_site.gunicorn_worker.SyncWorker"


def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    config = gunicorn_config(
        monkeypatch, WEB_CONCURRENCY="9", GUNICORN_TIMEOUT="30", LOG_FORMAT="json"
    )
    assert config["workers"] == 9
    assert config["timeout"] == 30
    assert config["logger_class"] == "crm_site.gunicorn_logging.JsonLogger"


def test_gunicorn_access_lines_are_json_with_log_format_json():
    from gunicorn.config import Config

    from crm_site.gunicorn_logging import JsonLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = JsonLogger(cfg)
    stream = io.StringIO()
    logger.access_log.handlers = [logging.StreamHandler(stream)]

    class Response:
        status = "200 OK"
        status_code = 200
        sent = 12
        headers = []

    class Request:
        headers = [("X-FORWARDED-FOR", "192.0.2.1")]
        method, path, query, version, uri = "GET", "/contacts/", "q=a", (1, 1), "/contacts/?q=a"

    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/contacts/?q=a",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/contacts/",
        "QUERY_STRING": "q=a",
    }
    logger.access(Response(), Request(), environ, datetime.timedelta(milliseconds=42))

    line = json.loads(stream.getvalue())
    assert line["path"] == "/contacts/"
    assert line["status"] == "200"
    assert line["duration_ms"] == 42.0
    assert line["forwarded_for"] == "192.0.2.1"


class _Response:
    status = "200 OK"
    status_code = 200
    sent = 5123
    headers = [("Content-Type", "text/html"), ("Vary", "Cookie"), ("Vary", "Accept-Language")]


class _Request:
    headers = [("HOST", "crm.example.com"), ("USER-AGENT", 'Agent "quoted"'), ("COOKIE", "a=b")]


_ENVIRON = {
    "REMOTE_ADDR": "192.0.2.7",
    "REQUEST_METHOD": "GET",
    "RAW_URI": '/contacts/?q="x"',
    "SERVER_PROTOCOL": "HTTP/1.1",
    "PATH_INFO": "/contacts/",
    "QUERY_STRING": 'q="x"',
    "HTTP_USER_AGENT": 'Agent "quoted"',
    "HTTP_AUTHORIZATION": "Basic dXNlcjpwdw==",
    "wsgi.url_scheme": "http",
}


def test_an_access_lines_atoms_are_gunicorns_each_worked_out_when_asked_for():
    from gunicorn.config import Config
    from gunicorn.glogging import Logger as GunicornLogger
    from gunicorn.glogging import SafeAtoms

    from crm_site.gunicorn_logging import Atoms, Logger

    logger = Logger(Config())
    took = datetime.timedelta(seconds=1, microseconds=234567)
    gunicorns = SafeAtoms(GunicornLogger.atoms(logger, _Response, _Request, _ENVIRON, took))
    ours = Atoms(logger, _Response, _Request, _ENVIRON, took, escape=True)

    asked = [*gunicorns, "{Host}i", "{VARY}o", "{Remote_Addr}e", "{missing}i", "x", "{x}z"]
    assert {key: ours[key] for key in asked if key != "t"} == {
        key: gunicorns[key] for key in asked if key != "t"
    }
    assert ours["t"].startswith("[")  # the time: now, in gunicorn's format


def test_the_access_line_is_gunicorns():
    from gunicorn.glogging import Logger as GunicornLogger

    from crm_site.gunicorn_logging import Logger

    config = gunicorn_config_object()
    lines = []
    for logger_class in (GunicornLogger, Logger):
        logger = logger_class(config)
        stream = io.StringIO()
        logger.access_log.handlers = [logging.StreamHandler(stream)]
        logger.access(_Response, _Request, _ENVIRON, datetime.timedelta(milliseconds=42))
        lines.append(stream.getvalue())
    assert lines[0] == lines[1] == '192.0.2.7 "GET /contacts/?q=\\"x\\" HTTP/1.1" 200 5123 42ms\n'


def gunicorn_config_object():
    from gunicorn.config import Config

    config = Config()
    config.set("accesslog", "-")
    config.set(
        "access_log_format",
        runpy.run_path(str(BASE_DIR / "crm_site" / "gunicorn.conf.py"))["access_log_format"],
    )
    return config


def test_a_json_access_line_without_forwarded_for_says_so():
    # A balancer's health probe comes without X-Forwarded-For; the line was a KeyError.
    from gunicorn.config import Config

    from crm_site.gunicorn_logging import JsonLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = JsonLogger(cfg)
    stream = io.StringIO()
    logger.access_log.handlers = [logging.StreamHandler(stream)]
    logger.access(_Response, _Request, _ENVIRON, datetime.timedelta(milliseconds=3))

    line = json.loads(stream.getvalue())
    assert line["forwarded_for"] == "-"
    assert line["user_agent"] == 'Agent "quoted"'  # JSON escapes it, not gunicorn's way
    assert line["query"] == 'q="x"'
    assert line["bytes"] == 5123


# --- structured logs ------------------------------------------------------------------------------


def test_json_formatter_writes_one_object_per_record_with_extras_and_exceptions(rf):
    formatter = JsonFormatter()
    record = logging.makeLogRecord(
        {
            "name": "django.request",
            "levelname": "ERROR",
            "levelno": logging.ERROR,
            "msg": "Internal Server Error: %s",
            "args": ("/contacts/",),
            "status_code": 500,
            "request": rf.get("/contacts/"),
        }
    )
    try:
        raise ValueError("boom\nwith a second line")
    except ValueError:
        record.exc_info = sys.exc_info()

    text = formatter.format(record)

    assert "\n" not in text  # one line per record, whatever the message holds
    entry = json.loads(text)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "django.request"
    assert entry["message"] == "Internal Server Error: /contacts/"
    assert entry["status_code"] == 500
    assert (entry["method"], entry["path"]) == ("GET", "/contacts/")
    assert "ValueError: boom" in entry["exception"]
    assert entry["time"].endswith("+00:00")


def test_log_format_json_switches_the_django_logs_to_json():
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('crm').warning('disk %s', 'full')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crm_site.settings",
            "DATABASE_URL": subprocess_database_url(),
            "LOG_FORMAT": "json",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["message"] == "disk full"
    assert entry["level"] == "WARNING"


# --- refusing unsafe settings -------------------------------------------------------------------


def without_a_key(tmp_path, **env) -> dict:
    """A production environment with no SECRET_KEY and no local install's key file."""
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    # Settings read the URL without connecting; nothing here reaches a database.
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "crm_site.settings",  # not the test run's tests.settings
        "CRM_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "postgres://crm@127.0.0.1:5432/crm",
        **env,
    }


@pytest.mark.parametrize("debug", [{}, {"DEBUG": "false"}])
def test_manage_py_refuses_to_start_without_a_secret_key_in_one_line(tmp_path, debug):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=without_a_key(tmp_path, **debug),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr == (
        "manage.py: cannot start: SECRET_KEY is not set: set it to a long random value (the "
        "same on every server), or run `make db` to create a key for this local install in "
        ".data/secret_key.\n"
    )


def test_gunicorn_refuses_to_start_without_a_secret_key_before_forking_workers(tmp_path):
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            "crm_site/gunicorn.conf.py",
            "crm_site.wsgi",
        ],
        cwd=BASE_DIR,
        env=without_a_key(tmp_path, GUNICORN_BIND="127.0.0.1:0", WEB_CONCURRENCY="1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(
        "gunicorn: cannot start: SECRET_KEY is not set"
    )
    assert "Traceback" not in result.stderr
    assert "Booting worker" not in result.stderr


def settings_secret_key(env: dict) -> str:
    code = (
        "import django; django.setup(); from django.conf import settings as s; print(s.SECRET_KEY)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_make_creates_a_random_private_key_once_for_the_local_install(tmp_path):
    def secret_key_command(data: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "crm_site.embedded_db", "secret-key"],
            cwd=BASE_DIR,
            env=without_a_key(tmp_path, CRM_DATA_DIR=str(tmp_path / data)),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout

    key_file = tmp_path / "data" / "secret_key"
    assert (
        secret_key_command("data")
        == f"Created a random SECRET_KEY for this install in {key_file}.\n"
    )
    key = key_file.read_text().strip()
    assert secret_key_command("data") == ""  # made once: the next `make` keeps it
    secret_key_command("other")

    assert key_file.read_text().strip() == key
    assert len(key) >= 50
    assert key != (tmp_path / "other" / "secret_key").read_text().strip()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert settings_secret_key(without_a_key(tmp_path)) == key
    # The environment's SECRET_KEY (production's) wins over the file.
    chosen = "a-production-key-from-the-environment-0123456789-abcdefghijklmnop"
    assert settings_secret_key(without_a_key(tmp_path, SECRET_KEY=chosen)) == chosen


# --- static files ---------------------------------------------------------------------------------


def test_static_files_are_collected_with_hashed_names_and_compressed(tmp_path):
    code = (
        "import sys, django; from django.conf import settings; django.setup(); "
        "settings.STATIC_ROOT = sys.argv[1]; from django.core.management import call_command; "
        "call_command('collectstatic', interactive=False, verbosity=0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": subprocess_database_url(),
            "DJANGO_SETTINGS_MODULE": "crm_site.settings",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/crm.css"]
    assert hashed != "css/crm.css"
    assert (tmp_path / hashed).exists()
    assert (tmp_path / f"{hashed}.gz").exists()


# --- no local state -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_attachments_go_through_the_configured_storage_only(settings, owner, client, tmp_path):
    """With an in-memory default storage, a wizard upload and its logged entry's attachment
    land there, and nothing is written under MEDIA_ROOT: any Django storage backend (S3, a
    shared volume) lets several app servers share the files."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    storages._storages = {}  # forget the storage built from the old setting
    person = factories.PersonFactory()
    template = factories.TemplateFactory()
    factories.TemplateContentFactory(template=template)
    client.force_login(owner)
    client.post(reverse("interactions:wizard_start"), {"contact": person.pk})
    draft = InteractionDraft.objects.get()

    def post(step, data):
        url = reverse("interactions:wizard", kwargs={"draft_id": draft.pk, "step": step})
        payload = {f"draft_{draft.pk}-current_step": step}
        payload.update({f"{step}-{key}": value for key, value in data.items()})
        return client.post(url, payload)

    try:
        post(
            "type",
            {
                "template": template.pk,
                "salesperson": owner.salesperson.pk,
                "date": "2026-11-20",
                "time": "09:00",
            },
        )
        post("content", {"subject": "S", "attachment": SimpleUploadedFile("o.pdf", b"%PDF-1")})
        post("related", {})
        finish = post("result", {"description": "Call", "cost": "1", "duration": "1"})

        assert finish.status_code == 302
        assert finish["Location"] == person.get_absolute_url(), [
            str(m) for m in client.get(finish["Location"]).context["messages"]
        ]
        entry = InteractionLogEntry.objects.get()
        assert entry.attachment.read() == b"%PDF-1"
        assert storages["default"].exists(entry.attachment.name)
        assert not settings.MEDIA_ROOT.exists()
    finally:
        storages._storages = {}
