"""`seed_demo [--contacts N] [--interactions N] [--if-empty]` (docs/operations.md)."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand

from segments.demo import DEMO_PASSWORD, DemoLogin, demo_logins, demo_seed


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value!r}")
    return number


class Command(BaseCommand):
    help = (
        "Add realistic demo data on top of what exists: salespeople with logins, companies and "
        "persons, interaction templates, campaigns, opportunities, segments and a two-year "
        "history of interactions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=_count, default=300, help="default 300")
        parser.add_argument(
            "--interactions", type=_count, default=3000, help="log entries; default 3000"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when any contact exists (what `make run` uses)",
        )

    def handle(self, *args, contacts: int, interactions: int, if_empty: bool, **options):
        result = demo_seed(contacts=contacts, interactions=interactions, if_empty=if_empty)
        if result is None:
            self.stdout.write("Contacts exist already; nothing seeded (--if-empty).")
            self._write_logins(demo_logins(), f'password "{DEMO_PASSWORD}" unless changed')
            return
        self.stdout.write(result.summary())
        self._write_logins(result.logins, f'password "{DEMO_PASSWORD}"')

    def _write_logins(self, logins: list[DemoLogin], password: str) -> None:
        if not logins:
            return
        self.stdout.write(f"Demo logins ({password}):")
        for login in logins:
            note = (
                "" if login.created is not False else " (existed before; password left as it was)"
            )
            self.stdout.write(f"  {login.username:<8} {login.role}{note}")
