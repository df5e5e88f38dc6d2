"""The project's settings as a test run loads them (pytest's DJANGO_SETTINGS_MODULE).

The very same module, crm_site.settings, with a throwaway SECRET_KEY when the environment sets
none: the settings refuse to start without a key, and a test run needs neither a configured
key nor `make`. It goes into the environment, so the `manage.py` processes the tests start get
it too.
"""

import os
import secrets

os.environ.setdefault("SECRET_KEY", "tests-" + secrets.token_urlsafe(50))

from crm_site.settings import *  # noqa: F403
