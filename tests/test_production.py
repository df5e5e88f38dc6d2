"""Running in production: the gunicorn config, JSON logs, static files, and no local state
(spec section 6, issue 7)."""

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
    assert "logger_class" not in config


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
    client.get(reverse("interactions:wizard_start"), {"contact": person.pk})
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
