"""Prometheus metrics at ``/metrics``, for the monitoring network only.

django-prometheus counts requests, latency and database queries as they happen; the portal's own
figures are read from the database when Prometheus scrapes, in three grouped queries whatever the
data (PortalCollector). Only a peer whose direct address (REMOTE_ADDR, never X-Forwarded-For, which
anyone can write) lies in METRICS_ALLOWED_NETWORKS is served; anyone else gets 404, so the path
does not even show that it exists.
"""

import ipaddress
import logging
import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from accounts.models import Notification
from indicators.models import Submission
from utilities.models import Job

logger = logging.getLogger(__name__)


class PortalCollector:
    """Jobs by kind and state, review states per period, notifications by level: three queries, however much data."""

    def collect(self):
        # A database that does not answer must not cost Prometheus the request and process metrics:
        # the portal's figures are left out and portal_scrape_error says why.
        error = GaugeMetricFamily("portal_scrape_error", "1 when the portal's own figures could not be read from the database.")
        try:
            families = list(self._families())
        except DatabaseError:
            logger.warning("portal metrics: the database did not answer", exc_info=True)
            families = []
        error.add_metric([], 0 if families else 1)
        yield error
        yield from families

    def _families(self):
        jobs = GaugeMetricFamily(
            "portal_jobs", "Background jobs (report compiles, record imports) by kind and state.", labels=["kind", "state"]
        )
        for row in Job.objects.order_by().values("kind", "state").annotate(n=Count("pk")):
            jobs.add_metric([row["kind"], row["state"]], row["n"])
        yield jobs

        submissions = GaugeMetricFamily(
            "portal_submissions",
            "Regions' sheets per reporting period and review state (draft, submitted, returned, approved, accepted, confirmed).",
            labels=["period", "state"],
        )
        for row in Submission.objects.order_by().values("period__code", "state").annotate(n=Count("pk")):
            submissions.add_metric([row["period__code"], row["state"]], row["n"])
        yield submissions

        notifications = CounterMetricFamily("portal_notifications_sent", "In-portal notifications sent, by level.", labels=["level"])
        for row in Notification.objects.order_by().values("level").annotate(n=Count("pk")):
            notifications.add_metric([row["level"]], row["n"])
        yield notifications


portal_registry = CollectorRegistry(auto_describe=False)
portal_registry.register(PortalCollector())


def allowed_networks():
    try:
        return [ipaddress.ip_network(cidr.strip(), strict=False) for cidr in settings.METRICS_ALLOWED_NETWORKS if cidr.strip()]
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}") from exc


def peer_allowed(request):
    """Whether the direct peer may read the metrics. REMOTE_ADDR only: X-Forwarded-For is not trusted here."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in allowed_networks())


def process_registry():
    """This process's request and database metrics — or, under gunicorn with several workers and
    PROMETHEUS_MULTIPROC_DIR set, every worker's, merged (prometheus_client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@never_cache
def metrics(request):
    if not peer_allowed(request):
        raise Http404
    body = generate_latest(process_registry()) + generate_latest(portal_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
