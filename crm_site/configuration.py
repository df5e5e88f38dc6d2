"""A refusal to start, said in one line.

The settings raise ImproperlyConfigured when the environment lacks something or is unsafe (no
SECRET_KEY, no database). `manage.py` and gunicorn's master load them through this first, so
the operator reads the reason, not a traceback, and gunicorn stops before it forks workers that
would each fail alike.
"""

import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def exit_unless_configured(program: str) -> None:
    try:
        settings.INSTALLED_APPS  # noqa: B018  (imports the settings module)
    except ImproperlyConfigured as exc:
        sys.exit(f"{program}: cannot start: {exc}")
