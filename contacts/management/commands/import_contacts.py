"""`import_contacts FILE.csv [--dry-run] [--skip-invalid]` (docs/operations.md)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from contacts.importer import COLUMNS, ImportFileError, import_contacts
from contacts.management.words import counted


class Command(BaseCommand):
    help = (
        "Import companies and persons from a UTF-8 CSV file (a BOM is allowed) with a header "
        f"row naming any of these columns in any order: {', '.join(COLUMNS)}. Every row is "
        "checked first and each bad row is reported with its line number and reason; nothing "
        "is imported when any row is bad unless --skip-invalid. Rows without a number take one "
        "from the Contact Nos. series of Marketing Setup. A person's company is a company's "
        "number, or its name when that name is unique; it may appear anywhere in the file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv", help="the CSV file to import")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check every row and report; import nothing (exit status 1 if any row is bad)",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the valid rows even when some are bad (the bad ones are reported)",
        )

    def handle(self, *args, file: str, dry_run: bool, skip_invalid: bool, **options):
        with tqdm(unit="row", disable=None, file=sys.stderr) as bar:
            try:
                result = import_contacts(
                    file, dry_run=dry_run, skip_invalid=skip_invalid, progress=bar.update
                )
            except ImportFileError as exc:
                raise CommandError(str(exc)) from None
        for error in result.errors:
            self.stderr.write(str(error))
        bad = len(result.errors)
        counts = (
            f"{counted(result.companies, 'company', 'companies')} and "
            f"{counted(result.persons, 'person', 'persons')}"
        )
        if dry_run:
            if not bad:
                self.stdout.write(f"Dry run: {result.rows} rows, 0 invalid; would import {counts}.")
                return
            # Exit status 1 whenever a row is invalid, so that a script can rely on it.
            verdict = f"would import {counts}" if skip_invalid else "would import nothing"
            raise CommandError(
                f"Dry run: {result.rows} rows, {bad} invalid (listed above); {verdict}. "
                "Fix them, or use --skip-invalid to import the other rows."
            )
        if not result.imported:
            raise CommandError(
                f"{bad} of {result.rows} rows are invalid (listed above); nothing imported. "
                "Fix them, or use --skip-invalid to import the other rows."
            )
        skipped = (
            f"; skipped {counted(bad, 'invalid row', 'invalid rows')} (listed above)" if bad else ""
        )
        self.stdout.write(f"Imported {counts} from {file}{skipped}.")
