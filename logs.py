"""Logging: plain text for a terminal, or one JSON object per line for log collectors.

``NKCINEMA_LOG_FORMAT=json`` (the production default) makes every record — uvicorn's, the
access log's, the error log's — a JSON line with ``time``, ``level``, ``logger`` and
``message``, plus ``request_id`` and the access fields where the record has them, and
``exception`` (the traceback) for unexpected errors. What is never logged: request bodies,
variables and headers (so no ``Authorization`` token), query strings (they can hold
variables), and connection strings.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from settings import Settings

ACCESS_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "client", "database")


class JsonFormatter(logging.Formatter):
    """One JSON object per record. Every request is logged (the access record), so this is on
    the hot path: orjson, and the timestamp's date and time to the second made once a second."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._prefix = ""  # "YYYY-MM-DDTHH:MM:SS" of self._second (UTC)

    def _time(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        milliseconds = min(int((created - second) * 1000), 999)
        return f"{self._prefix}.{milliseconds:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        try:
            return orjson.dumps(entry).decode("utf-8")
        except TypeError:  # what orjson refuses (integers beyond 64 bits, other types)
            return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if getattr(record, "status", None) is not None:  # an access record
            text += f" [request {getattr(record, 'request_id', '-')}]"
        return text


def log_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn and the app."""
    formatter = "json" if settings.log_format == "json" else "text"
    handler = {
        "class": "logging.StreamHandler",
        "formatter": formatter,
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": JsonFormatter},
            "text": {"()": TextFormatter},
        },
        "handlers": {"default": handler},
        "loggers": {
            "nkcinema": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "sqlalchemy.engine": {
                "handlers": ["default"],
                "level": "INFO" if settings.log_sql else "WARNING",
                "propagate": False,
            },
        },
    }
