"""gunicorn settings; every value can be overridden from the environment."""

import multiprocessing
import os
import signal
import threading

from crm_site import draining

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: the app is I/O bound on Postgres; 2 x cores + 1 is gunicorn's own advice.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# gunicorn's sync worker, but a new connection wakes one idle worker instead of all of them.
worker_class = "crm_site.gunicorn_worker.SyncWorker"
# A sync worker that answers nothing for this long is killed and replaced. The longest request
# is the browser's CSV export of every entry (about a minute per million rows): raise this
# before exporting more than that through the browser, or use `manage.py export_interactions`.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# Behind a load balancer: seconds a server keeps serving after SIGTERM while /healthz answers
# 503, so the balancer takes it out before it stops accepting connections (without it, requests
# the balancer sends in that moment are refused or reset). Set it above the balancer's time to
# mark a server down (HAProxy: `inter` x `fall`). 0: stop at once, gunicorn's own SIGTERM.
DRAIN_SECONDS = float(os.environ.get("GUNICORN_DRAIN_SECONDS", "0"))
keepalive = 5
# Recycle workers now and then (bounded memory growth), staggered so they do not all restart.
# Not too often: a new worker costs ~1 s of CPU (imports, then its first templates and
# prepared statements), and at 2000 requests each of 5 workers restarted every ~80 s under the
# 200-user load run, about 1 ms of CPU per request (docs/benchmarks.md).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# %(M)s: milliseconds from the request arriving to the response written.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
# gunicorn's logger; an access line works out only the atoms its format names (~75 -> ~30 us).
logger_class = "crm_site.gunicorn_logging.Logger"
if os.environ.get("LOG_FORMAT") == "json":
    logger_class = "crm_site.gunicorn_logging.JsonLogger"
# The heartbeat files of the workers: in memory where there is a /dev/shm (no disk writes;
# gunicorn creates them itself with unique names, so the shared directory is no risk).
SHARED_MEMORY = "/dev/shm"  # noqa: S108
if os.path.isdir(SHARED_MEMORY):
    worker_tmp_dir = SHARED_MEMORY
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """In the master, before any socket or worker: a refusal of the settings (no SECRET_KEY,
    no database) stops gunicorn with its one-line reason."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
    from crm_site.configuration import exit_unless_configured

    exit_unless_configured("gunicorn")


def when_ready(server):
    """With DRAIN_SECONDS, the first SIGTERM starts draining and a second one (sent by a timer
    after DRAIN_SECONDS, or by the operator) stops gunicorn gracefully: workers finish their
    requests within graceful_timeout."""
    if DRAIN_SECONDS <= 0:
        return
    stop = server.handle_term

    def handle_term():
        if draining.draining():
            stop()
        draining.start()
        server.log.info("Draining: /healthz answers 503; stopping in %s s", DRAIN_SECONDS)
        timer = threading.Timer(DRAIN_SECONDS, os.kill, (os.getpid(), signal.SIGTERM))
        timer.daemon = True
        timer.start()

    server.handle_term = handle_term
