#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
    from django.core.management import execute_from_command_line

    from crm_site.configuration import exit_unless_configured

    exit_unless_configured("manage.py")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
