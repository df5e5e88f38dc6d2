"""Counted nouns for the management commands' English output ("1 company", "2 companies")."""

from __future__ import annotations


def counted(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"
