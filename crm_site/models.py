"""The site's own table: request counts for throttles (crm_site/throttle.py)."""

from __future__ import annotations

from django.db import models


class ThrottleCount(models.Model):
    """How many requests one key (an action and who asks: an address, an account) made in its
    current window. Rows of ended windows are deleted as new requests come in."""

    key = models.CharField(max_length=100, primary_key=True)
    window_start = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.key}: {self.count} since {self.window_start:%Y-%m-%d %H:%M}"
