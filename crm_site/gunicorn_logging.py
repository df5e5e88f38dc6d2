"""gunicorn's own logs as JSON lines, when LOG_FORMAT=json (see gunicorn.conf.py)."""

from __future__ import annotations

import json
import logging

from gunicorn.glogging import Logger

from crm_site.log_format import JsonFormatter


class JsonLogger(Logger):
    """Error log through the app's JSON formatter; one JSON object per access line."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())
        for handler in self.access_log.handlers:
            handler.setFormatter(logging.Formatter("%(message)s"))

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        line = {
            "time": self.now().strip("[]"),
            "logger": "gunicorn.access",
            "remote": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"],
            "status": atoms["s"],
            "bytes": atoms["B"],
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "forwarded_for": atoms["{x-forwarded-for}i"],
            "user_agent": atoms["a"],
        }
        self.access_log.info(json.dumps(line, ensure_ascii=False))
