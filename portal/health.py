"""Liveness and readiness (django-health-check), always answered as JSON.

- ``/health/live/``: the process is up and serving; it touches nothing else, so a load balancer or
  orchestrator never restarts a healthy web process because the database is slow.
- ``/health/ready/``: every dependency a request may need — database, cache, Celery broker, the
  default file storage and (HEALTH_CHECK_CELERY) a Celery worker answering a ping — each with a short
  timeout (HEALTH_CHECK_TIMEOUT seconds). 200 when all pass, 503 naming the failing checks.

Which checks run is read from the settings on every request (docs/operations.md has the table).
"""

import asyncio
import dataclasses
import datetime

from celery import current_app as celery_app
from django.conf import settings
from django.http import JsonResponse
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


def _timeout():
    return datetime.timedelta(seconds=getattr(settings, "HEALTH_CHECK_TIMEOUT", 3))


@dataclasses.dataclass
class CeleryBroker(HealthCheck):
    """The Celery broker accepts a connection (Redis, or kombu's filesystem transport by default)."""

    timeout: datetime.timedelta = dataclasses.field(default_factory=_timeout, repr=False)

    def run(self):
        try:
            with celery_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout.total_seconds())
        except Exception as exc:  # kombu wraps every transport's errors differently
            raise ServiceUnavailable(f"broker unreachable ({type(exc).__name__})") from exc


# The name each check answers under in the JSON body.
CHECK_NAMES = {
    "health_check.checks.Database": "database",
    "health_check.checks.Cache": "cache",
    "health_check.checks.Storage": "storage",
    "portal.health.CeleryBroker": "broker",
    "health_check.contrib.celery.Ping": "celery_worker",
}


def ready_checks():
    """The readiness checks the current settings ask for, as django-health-check's ``checks``."""
    timeout = _timeout()
    checks = [
        ("health_check.checks.Database", {"alias": "default"}),
        ("health_check.checks.Cache", {"alias": "default", "timeout": timeout}),
        ("portal.health.CeleryBroker", {"timeout": timeout}),
        ("health_check.checks.Storage", {"alias": "default"}),
    ]
    if getattr(settings, "HEALTH_CHECK_CELERY", True):
        # limit=1: answer as soon as one worker replies instead of waiting out the timeout.
        checks.append(("health_check.contrib.celery.Ping", {"app": celery_app, "timeout": timeout, "limit": 1}))
    return checks


class ReadinessView(HealthCheckView):
    """django-health-check's runner, rendered as ``{"status", "checks": {name: "ok" | error}}``;
    503 (not the library's 500) when a check fails, as load balancers expect of a node not ready."""

    def get_checks(self):
        # From the settings on every call (the class attribute would be the library's defaults,
        # which `manage.py health_check health-ready --no-http` reads through this method too).
        self.checks = ready_checks()
        self.names = [CHECK_NAMES[path] for path, _options in self.checks]
        return super().get_checks()

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            self.results = await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
        return self.render_to_response_json()

    def render_to_response_json(self, status=None):
        checks = {name: "ok" if not result.error else str(result.error) for name, result in zip(self.names, self.results)}
        failing = [name for name, result in zip(self.names, self.results) if result.error]
        body = {"status": "fail" if failing else "ok", "checks": checks}
        if failing:
            body["failing"] = failing
        return JsonResponse(body, status=503 if failing else 200, json_dumps_params={"ensure_ascii": False})


class LivenessView(HealthCheckView):
    """The process answers; no dependency is consulted (no checks at all). A class view like the
    readiness one, so `manage.py health_check health-live --no-http` works too."""

    checks = ()

    async def get(self, request, *args, **kwargs):
        return JsonResponse({"status": "ok"})


live = LivenessView.as_view()
ready = ReadinessView.as_view()
