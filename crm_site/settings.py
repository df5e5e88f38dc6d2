"""Settings, all read from the environment (see README "Configuration").

Production differs from development only by environment values, never by code.
"""

from datetime import timedelta
from pathlib import Path

import environ
import jinja2
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from crm_site import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# Production sets SECRET_KEY (the same on every server). A local install (`make run`, `make
# test`) uses the random key that `make` wrote once to .data/secret_key; settings only read it.
# There is no built-in key: a published one would let anyone forge sessions and reset links.
SECRET_KEY = env.str("SECRET_KEY", default="") or embedded_db.read_secret_key()
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: set it to a long random value (the same on every server), "
        "or run `make db` to create a key for this local install in .data/secret_key."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "formtools",
    "axes",
    "contacts",
    "interactions",
    "segments",
    "crm_site",  # its one table: request counts for throttles (crm_site/throttle.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "crm_site.middleware.RejectNulBytesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, with the site's constant policy written once per process.
    "crm_site.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm_site.urls"
WSGI_APPLICATION = "crm_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
    # The rows of the list tables (contacts.web.render_rows): autoescaping Jinja2 partials under
    # templates/jinja2/, fed precomputed links and labels. A name the view did not pass is an
    # error, not an empty cell.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "rows",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "autoescape": True,
            "undefined": jinja2.StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
        },
    },
]

# Django's widget templates through Jinja2 (same markup, faster); see crm_site/form_renderer.py.
FORM_RENDERER = "crm_site.form_renderer.WidgetRenderer"

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL wins; without it, the embedded server that `make db` started (never started here).
_database_url = env.str("DATABASE_URL", default="")
if not _database_url:
    try:
        _database_url = embedded_db.read_url()
    except embedded_db.EmbeddedDatabaseNotRunning as exc:
        raise ImproperlyConfigured(str(exc)) from exc
DATABASES = {"default": env.db_url_config(_database_url)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "This project runs on PostgreSQL only; DATABASE_URL must be postgres."
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
_db_options["application_name"] = env.str("DB_APPLICATION_NAME", default="crm-web")
# Prepared statements (on by default, unlike Django): with server-side parameter binding,
# psycopg prepares a query the second time a connection runs it and PostgreSQL skips parsing
# and planning from then on. The pages run the same few dozen queries all day, so this halves
# PostgreSQL's CPU per page (docs/benchmarks.md, "Load run"). The default set-up reaches
# PostgreSQL directly (or through PgBouncer in session mode), where that is safe. Behind a
# pooler in transaction mode that cannot keep prepared statements per client (PgBouncer
# before 1.21) set DB_PREPARED_STATEMENTS=off; docs/operations.md.
if env.bool("DB_PREPARED_STATEMENTS", default=True):
    _db_options["server_side_binding"] = True
    _db_options["prepare_threshold"] = env.int("DB_PREPARE_THRESHOLD", default=1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
# The throttle backend first: it refuses a locked-out account or address before any password
# is checked (see "Login throttling" below).
AUTHENTICATION_BACKENDS = [
    "crm_site.auth_backends.LoginThrottleBackend",
    "crm_site.auth_backends.RolePermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = 14 * 24 * 3600  # two weeks, then sign in again
# Django's database sessions, read with a statement compiled once (crm_site/sessions.py).
SESSION_ENGINE = "crm_site.sessions"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

# --- Static and media files -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    # Attachments go through this storage only; any Django storage backend fits.
    "default": {
        "BACKEND": env.str("FILE_STORAGE", default="django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
MAX_UPLOAD_SIZE = env.int("MAX_UPLOAD_SIZE", default=10 * 1024 * 1024)
# File name extensions an attachment may have (lower case, without the dot). Files of the types
# that announce themselves by their first bytes must also start with them
# (`interactions.uploads`).
ALLOWED_UPLOAD_EXTENSIONS = env.list(
    "ALLOWED_UPLOAD_EXTENSIONS",
    default=[
        "pdf", "txt", "csv", "rtf", "png", "jpg", "jpeg", "gif",
        "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp",
    ],
)  # fmt: skip

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG or not env.str("EMAIL_HOST", default="")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security -------------------------------------------------------------------------------
# HTTPS is a switch of its own, not tied to DEBUG: `make run` and the test client use plain http.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
# A load balancer's health probe comes over plain HTTP without X-Forwarded-Proto: /healthz
# answers it (200 or 503) instead of redirecting; every other path is redirected to https.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind a proxy the client is the address the nearest proxy appended to X-Forwarded-For (a
# client can write anything it likes to the left of it); PROXY_COUNT proxies in a row.
PROXY_COUNT = env.int("PROXY_COUNT", default=1)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A refused form (expired, or signed in or out elsewhere meanwhile) in the site's layout.
CSRF_FAILURE_VIEW = "crm_site.views.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Login throttling (django-axes) ---------------------------------------------------------
# Failed logins are counted per account and per client address, each on its own:
# AXES_FAILURE_LIMIT failures for one username (from any address) lock that account, and
# AXES_ADDRESS_FAILURE_LIMIT failures from one address (for any username; higher, as an office
# shares an address) lock that address, for AXES_COOLOFF_MINUTES after the failure that reached
# the limit. A login refused by a lock is not counted and does not extend it. The counts live in
# the database, so every app server behind the load balancer sees the same ones. A successful
# login clears the account's failures (not the address's).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "crm_site.auth_backends.LoginThrottleHandler"  # the two limits
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # refused logins do not count
AXES_RESET_ON_SUCCESS = True

# --- Password reset throttle (crm_site/throttle.py) -----------------------------------------
# Reset requests per client address and per email address in a window, counted in the database
# (every app server sees the same counts). Beyond either limit no mail goes out, and the answer
# is the same as always.
PASSWORD_RESET_ADDRESS_LIMIT = env.int("PASSWORD_RESET_ADDRESS_LIMIT", default=10)
PASSWORD_RESET_ACCOUNT_LIMIT = env.int("PASSWORD_RESET_ACCOUNT_LIMIT", default=3)
PASSWORD_RESET_WINDOW = timedelta(minutes=env.int("PASSWORD_RESET_WINDOW_MINUTES", default=60))
AXES_LOCKOUT_CALLABLE = "crm_site.auth_backends.lockout_response"  # the lockout page, 429
AXES_CLIENT_IP_CALLABLE = "crm_site.auth_backends.client_ip"
# Successful logins are not logged to a table (users have `last_login`); failures are counted.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# --- Logging --------------------------------------------------------------------------------
# LOG_FORMAT=json writes one JSON object per line (for a log shipper); plain text otherwise.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'plain' or 'json'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "crm_site.log_format.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # axes logs every login at INFO ("Deleted 0 failed login attempts"); lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}
