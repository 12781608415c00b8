"""Operations (issue 15 §2): liveness and readiness, Prometheus metrics for the monitoring network
only, and JSON log lines carrying the request id, user and region but never a secret."""

import json
import logging
from collections import Counter
from datetime import date

import pytest
from django.db import connection, connections
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import Notification, NotificationLevel
from accounts.notifications import notify
from indicators import services
from indicators.models import Submission
from tests.helpers import fill, region
from utilities import jobs
from utilities.logging import JsonFormatter, RequestContextFilter, logging_config, sane_request_id
from utilities.models import Job, JobKind

TODAY = date(2022, 7, 12)


# --- liveness and readiness -------------------------------------------------------------------


def test_live_answers_without_touching_anything(client):
    # No django_db mark: any database query here would fail the test.
    response = client.get("/health/live/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_old_health_endpoint_still_answers(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_ready_checks_every_dependency(client):
    response = client.get("/health/ready/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    # The test settings run Celery eagerly: no worker to ping, so that check is off here.
    assert body["checks"] == {"database": "ok", "cache": "ok", "broker": "ok", "storage": "ok"}
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_fails_with_a_broken_database_setting(client, monkeypatch):
    # The check opens its own connection in a worker thread from these settings; this test's
    # connection is already open and is not affected.
    settings_dict = connections["default"].settings_dict
    if connection.vendor == "sqlite":
        monkeypatch.setitem(settings_dict, "NAME", "/nonexistent-folder/no.sqlite3")
    else:
        monkeypatch.setitem(settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(settings_dict, "PORT", "1")
    response = client.get("/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failing"] == ["database"]
    assert body["checks"]["database"].startswith("Unavailable")
    assert body["checks"]["cache"] == "ok"


@pytest.mark.django_db
def test_ready_fails_with_a_broken_cache_setting(client, settings):
    # Nothing listens on port 1: the Redis cache refuses at once.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    response = client.get("/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache"]
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_ready_with_the_worker_check_on_and_no_worker_names_it(client, settings):
    settings.HEALTH_CHECK_CELERY = True
    settings.HEALTH_CHECK_TIMEOUT = 0.5
    response = client.get("/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["celery_worker"]
    assert "Celery workers unavailable" in body["checks"]["celery_worker"]
    assert body["checks"]["broker"] == "ok"


@pytest.mark.integration
def test_ready_with_the_worker_check_on_and_a_real_worker(client, settings, celery_worker_redis):
    settings.HEALTH_CHECK_CELERY = True
    settings.HEALTH_CHECK_TIMEOUT = 3
    response = client.get("/health/ready/")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["celery_worker"] == "ok"


# --- metrics ----------------------------------------------------------------------------------


def samples(response):
    """{(metric sample name, frozenset of labels): value} of a Prometheus text answer."""
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("remote", "headers"),
    [
        ("10.1.2.3", {}),
        # A forged header changes nothing: only the direct peer counts.
        ("10.1.2.3", {"HTTP_X_FORWARDED_FOR": "127.0.0.1", "HTTP_X_REAL_IP": "127.0.0.1"}),
        ("not-an-address", {}),
    ],
)
def test_metrics_refused_outside_the_monitoring_network(client, remote, headers):
    response = client.get("/metrics", REMOTE_ADDR=remote, **headers)
    assert response.status_code == 404
    assert b"portal_" not in response.content


@pytest.mark.django_db
def test_metrics_network_comes_from_the_setting(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00::/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="fd00::5").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.9").status_code == 404


@pytest.mark.django_db
def test_metrics_served_to_the_monitoring_network_with_the_portals_figures(client, people, period, django_assert_max_num_queries):
    county, neighbour = people["county"], people["neighbour"]
    # Jobs: two report compiles waiting, one import finished, one failed.
    for _ in range(2):
        jobs.create(kind=JobKind.REPORT, region=region("510000"), user=people["province"])
    done = jobs.create(kind=JobKind.APPLICATIONS, region=region("510104"), user=county)
    jobs.start(done)
    jobs.finish(done)
    failed = jobs.create(kind=JobKind.APPLICATIONS, region=region("510104"), user=county)
    jobs.start(failed)
    jobs.fail(failed, message="第 3 行：日期无法识别")
    # Sheets: 锦江区 submitted, 青羊区 still filling in.
    fill(county, "510104", period)
    services.county_submit(user=county, region=region("510104"), period=period, today=TODAY)
    fill(neighbour, "510105", period)
    # Notifications: three at one level, one at another.
    levels = list(NotificationLevel)
    for n in range(3):
        notify(user=county, title=f"提醒 {n}", level=levels[0])
    notify(user=neighbour, title="逾期", level=levels[-1])

    with django_assert_max_num_queries(3):  # the portal's figures: one grouped query each
        response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    found = samples(response)

    assert found[("portal_jobs", frozenset({("kind", "report"), ("state", "queued")}))] == 2
    assert found[("portal_jobs", frozenset({("kind", "applications"), ("state", "done")}))] == 1
    assert found[("portal_jobs", frozenset({("kind", "applications"), ("state", "failed")}))] == 1
    assert sum(v for (name, _), v in found.items() if name == "portal_jobs") == Job.objects.count()

    expected = Counter(Submission.objects.values_list("period__code", "state"))
    assert expected[("2022S1", "submitted")] == 1
    got = {(dict(labels)["period"], dict(labels)["state"]): v for (name, labels), v in found.items() if name == "portal_submissions"}
    assert got == dict(expected)

    notices = {dict(labels)["level"]: v for (name, labels), v in found.items() if name == "portal_notifications_sent_total"}
    assert notices == dict(Counter(Notification.objects.values_list("level", flat=True)))
    assert notices[levels[0].value] >= 3
    assert found[("portal_scrape_error", frozenset())] == 0

    # django-prometheus's own: requests (the middleware) and queries (the engine wrapper).
    names = {name for name, _ in found}
    assert "django_http_requests_total_by_method_total" in names
    assert "django_http_requests_latency_seconds_by_view_method_count" in names
    assert "django_db_execute_total" in names


@pytest.mark.django_db
def test_metrics_over_ipv6_loopback(client):
    response = client.get("/metrics", REMOTE_ADDR="::1")
    assert response.status_code == 200
    assert found_name(response, "portal_scrape_error")


def found_name(response, name):
    return any(family.name == name for family in text_string_to_metric_families(response.content.decode()))


# --- logs -------------------------------------------------------------------------------------


class JsonLines(logging.Handler):
    """The lines the production formatter writes, kept for the test to read."""

    def __init__(self):
        super().__init__()
        self.lines = []
        self.addFilter(RequestContextFilter())
        self.setFormatter(JsonFormatter())

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def json_lines():
    handler = JsonLines()
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)


@pytest.mark.django_db
def test_login_is_logged_as_json_with_request_user_and_region_but_no_password(client, make_user, json_lines):
    password = "Secret-Pass#2026-xyz"
    user = make_user("jjlog", "county", "510104")
    user.set_password(password)
    user.save()

    response = client.post("/login/", {"username": "jjlog", "password": password}, HTTP_X_REQUEST_ID="probe-42.a")
    assert response.status_code == 302, response.content
    assert response["X-Request-ID"] == "probe-42.a"

    entries = [json.loads(line) for line in json_lines]  # every line is one JSON object
    assert entries
    mine = [e for e in entries if e["request_id"] == "probe-42.a"]
    access = [e for e in mine if e["logger"] == "portal.request"]
    assert len(access) == 1
    line = access[0]
    assert {"time", "level", "logger", "message"} <= line.keys()
    assert line["level"] == "INFO"
    assert line["user_id"] == user.pk
    assert line["region"] == "510104"
    assert line["method"] == "POST" and line["path"] == "/login/" and line["status"] == 302
    for raw in json_lines:
        assert password not in raw
        assert "sessionid" not in raw.lower()


@pytest.mark.django_db
def test_an_insane_request_id_is_replaced(client, json_lines):
    response = client.get("/health/live/", HTTP_X_REQUEST_ID='evil"\n{"level":"ERROR"}')
    assert response.status_code == 200
    echoed = response["X-Request-ID"]
    assert echoed != 'evil"\n{"level":"ERROR"}'
    assert sane_request_id(echoed) == echoed
    assert client.get("/health/live/")["X-Request-ID"] != echoed  # a new one each request


def test_the_formatter_drops_and_masks_secrets():
    logger = logging.getLogger("tests.operations")
    pdf_bytes = b"%PDF-1.7 file contents"
    handler = JsonLines()
    logger.addHandler(handler)
    try:
        logger.warning(
            "import by %s failed; password=hunter2 token: abc123 kwargs=%s",
            "jj",
            {"api_key": "k3y", "rows": 3},
            extra={
                "password": "hunter2",
                "api_token": "abc123",
                "cookies": {"sessionid": "s3cr3t"},
                "upload": pdf_bytes,
                "details": {"rows": 3, "secret_key": "k3y"},
            },
        )
    finally:
        logger.removeHandler(handler)
    raw = handler.lines[0]
    entry = json.loads(raw)
    for secret in ("hunter2", "abc123", "s3cr3t", "k3y", "PDF-1.7"):
        assert secret not in raw
    assert entry["message"].startswith("import by jj failed; password=")
    assert entry["details"] == {"rows": 3}
    assert entry["upload"] == f"<{len(pdf_bytes)} bytes>"  # a size, never the contents
    assert entry["request_id"] is None or isinstance(entry["request_id"], str)


def test_log_format_setting_picks_the_formatter():
    assert logging_config(fmt="json")["handlers"]["console"]["formatter"] == "json"
    assert logging_config(fmt="text")["handlers"]["console"]["formatter"] == "text"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(fmt="xml")


@pytest.mark.integration
def test_a_task_runs_under_the_request_id_that_enqueued_it(celery_worker_redis):
    from celery import signals

    from utilities.logging import request_id_var
    from utilities.tasks import heartbeat

    seen = []

    def record(task=None, **kwargs):
        seen.append((task.name, request_id_var.get()))

    signals.task_prerun.connect(record, weak=False)
    token = request_id_var.set("req-from-web-1")
    try:
        heartbeat.delay().get(timeout=20)
    finally:
        request_id_var.reset(token)
        signals.task_prerun.disconnect(record)
    assert seen == [("utilities.heartbeat", "req-from-web-1")]
