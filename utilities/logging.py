"""Structured logs: one JSON object per line, each carrying the request it was written for.

``utilities.middleware.RequestContextMiddleware`` puts the request id, user id and region code of
the current request into context variables; ``RequestContextFilter`` copies them onto every log
record; ``JsonFormatter`` writes the record as one line. Nothing secret may reach a log: keys that
name a password, token, secret, cookie, session or file content are dropped from the extra fields,
``key=value`` pairs of such names are masked inside messages, and the request object Django
attaches to its own records is reduced to method and path (never headers, cookies or body).

Only the standard library here: settings import ``logging_config`` before Django is set up.
"""

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[int | None] = ContextVar("user_id", default=None)
region_var: ContextVar[str | None] = ContextVar("region", default=None)

# An incoming X-Request-ID is kept only when it is a plain token, so a client cannot inject
# newlines, quotes or megabytes into every log line of its request.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")

SENSITIVE = re.compile(r"pass(word|wd)?|pwd|secret|token|cookie|session|csrf|auth|credential|api[_-]?key|otp|file|content|body", re.I)
REDACTED = "[已隐去]"
_INLINE_SECRET = re.compile(
    # key=value, key: value, and 'key': 'value' as a dict's repr shows it (Celery logs task kwargs so)
    r"(?P<key>\b[\w-]*(?:password|passwd|pwd|secret|token|cookie|sessionid|csrftoken|api[_-]?key)[\w-]*['\"]?)"
    r"(?P<sep>\s*[=:]\s*)(?P<value>['\"]?[^\s,;&'\"}]+['\"]?)",
    re.I,
)

# LogRecord's own attributes: everything else on a record came from ``extra=``.
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id", "user_id", "region"}


def sane_request_id(value):
    """The incoming id if it is a sane token, else a new one."""
    if value and REQUEST_ID_PATTERN.match(value):
        return value
    return uuid.uuid4().hex


def redact_text(text):
    """``password=…``, ``token: …`` and the like inside free text, with the value masked."""
    return _INLINE_SECRET.sub(lambda m: f"{m['key']}{m['sep']}{REDACTED}", text)


def _clean(value, depth=0):
    """A JSON-safe copy of ``value`` with sensitive keys dropped, at any nesting depth."""
    if depth > 4:
        return "…"
    if isinstance(value, dict):
        return {str(k): _clean(v, depth + 1) for k, v in value.items() if not SENSITIVE.search(str(k))}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v, depth + 1) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"  # file contents never; their size is enough
    return redact_text(str(value))


class RequestContextFilter(logging.Filter):
    """Adds request_id, user_id and region (the region's code) to every record; None outside a request."""

    def filter(self, record):
        record.request_id = request_id_var.get()
        record.user_id = user_id_var.get()
        record.region = region_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, user_id,
    region, then whatever safe extra fields the call gave, and the traceback if any."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
            "region": getattr(record, "region", None),
        }
        for key, value in record.__dict__.items():
            if key in _RECORD_ATTRS or key.startswith("_") or key in entry:
                continue
            if key == "request":
                # Django's own records carry the HttpRequest: its method and path only.
                entry["method"] = getattr(value, "method", None)
                entry["path"] = getattr(value, "path", None)
                continue
            if SENSITIVE.search(key):
                continue
            entry[key] = _clean(value)
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The readable form for a developer's terminal, with the request id when there is one."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = None
        return redact_text(super().format(record))


def logging_config(*, fmt="text", level="INFO"):
    """Django's LOGGING for ``LOG_FORMAT`` json or text: everything through one console handler."""
    if fmt not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be json or text, not {fmt!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "utilities.logging.RequestContextFilter"}},
        "formatters": {
            "json": {"()": "utilities.logging.JsonFormatter"},
            "text": {"()": "utilities.logging.TextFormatter"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "filters": ["request_context"], "formatter": fmt},
        },
        "root": {"handlers": ["console"], "level": level},
        # Django's own loggers propagate to the root; no handler of their own, so each line is written once.
        "loggers": {"django": {"handlers": [], "level": level, "propagate": True}},
    }


# A job a request enqueues logs under the request's id: the id travels in the task message's
# headers and is put back in context while the worker runs the task. (An eager task runs inside
# the request and already has its context.)
TASK_HEADER = "request_id"


def stamp_task_headers(headers=None, **kwargs):
    request_id = request_id_var.get()
    if headers is not None and request_id and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


def enter_task_context(task=None, **kwargs):
    request = getattr(task, "request", None)
    if request is None or getattr(request, "is_eager", False):
        return
    request_id = getattr(request, TASK_HEADER, None)
    request_id_var.set(request_id if isinstance(request_id, str) and REQUEST_ID_PATTERN.match(request_id) else None)
    user_id_var.set(None)
    region_var.set(None)


def leave_task_context(task=None, **kwargs):
    if not getattr(getattr(task, "request", None), "is_eager", False):
        request_id_var.set(None)


def _connect_celery_signals():
    try:
        from celery import signals
    except ImportError:  # pragma: no cover - Celery is a dependency; logging must not need it
        return
    signals.before_task_publish.connect(stamp_task_headers, weak=False, dispatch_uid="utilities.logging.stamp")
    signals.task_prerun.connect(enter_task_context, weak=False, dispatch_uid="utilities.logging.enter")
    signals.task_postrun.connect(leave_task_context, weak=False, dispatch_uid="utilities.logging.leave")


_connect_celery_signals()
