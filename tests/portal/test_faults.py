"""Faults (issue 7 §4): a compile killed half-way, the database going away, the broker down.

- A compile that fails or is killed after its first table leaves no snapshot (they are written in
  one transaction at the end); a failure marks the job failed with its message, a kill leaves it
  to the broker's redelivery (acks_late + reject_on_worker_lost), and the redelivered run completes.
- With the database gone the portal answers with its own Chinese 500 page (the API with its error
  body), and a write cut off in the middle of its transaction leaves nothing half-changed.
- With the broker down, pages keep working and a compile job started from the page or the API is
  created and marked failed with “任务队列暂不可用，请稍后重试。”.

Why there is no integration variant that SIGKILLs a real worker: the ``celery_worker_redis``
fixture runs the worker in a thread of the test process (a SIGKILL would kill the test run), and
with Redis an unacknowledged message is redelivered only once the transport's
``visibility_timeout`` has passed (kombu's default: one hour), so a redelivery within 60 s would
need a separate worker process sharing the test database plus a shortened visibility timeout —
not robust on SQLite. The kill is simulated in-process below (SystemExit / KeyboardInterrupt, which
the job runner does not catch, exactly as a killed process records nothing), then the redelivery is
the same task run again.
"""

from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.test import Client

from accounts.models import Region
from indicators import services as indicator_services
from indicators.models import AuditEntry, Checkmark, Submission
from indicators.services import CheckmarkValue
from reporting import services
from reporting.models import JobState, ReportJob, ReportKind, ReportSnapshot
from reporting.tasks import compile_reports
from tests.helpers import forget_celery_connections
from utilities import jobs
from utilities.models import JobKind

pytestmark = pytest.mark.django_db

SICHUAN, JINJIANG = "510000", "510104"
SHEET = "/periods/2022S1/sheet/510104/"
QUEUE_DOWN = "任务队列暂不可用，请稍后重试。"


@pytest.fixture
def official(make_user):
    return make_user("sc", "province", SICHUAN, last_name="省能源局")


@pytest.fixture
def clerk(make_user):
    return make_user("jj", "county", JINJIANG, last_name="锦江填报员")


def files_in(media):
    return [p for p in Path(media).rglob("*") if p.is_file()] if Path(media).exists() else []


def queued_job(official, period):
    job = jobs.create(kind=JobKind.REPORT, region=Region.objects.get(code=SICHUAN), user=official)
    return ReportJob.objects.create(job=job, period=period)


# --- a compile stopped half-way ------------------------------------------------------------------


def test_a_compile_failing_after_the_first_table_leaves_no_snapshot_and_fails_the_job(official, period, media, monkeypatch):
    written = []
    compile3, _write3 = services.WRITERS[ReportKind.ATTACHMENT3]
    compile2, write2 = services.WRITERS[ReportKind.ATTACHMENT2]

    def write2_then_note(table, **extra):
        data = write2(table, **extra)
        written.append(ReportKind.ATTACHMENT2)
        return data

    def broken_writer(table):
        raise OSError("磁盘已满")

    monkeypatch.setitem(services.WRITERS, ReportKind.ATTACHMENT2, (compile2, write2_then_note))
    monkeypatch.setitem(services.WRITERS, ReportKind.ATTACHMENT3, (compile3, broken_writer))
    job = queued_job(official, period)
    with pytest.raises(OSError):
        services.report_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert written == [ReportKind.ATTACHMENT2]  # the first table's Excel was made: it was half-way
    assert (job.state, job.attempts, job.message) == (JobState.FAILED, 1, "编制失败：磁盘已满")
    assert job.finished_at is not None and not job.snapshots.exists()
    assert ReportSnapshot.objects.count() == 0 and files_in(media) == []


def test_a_snapshot_save_failing_half_way_rolls_back_the_first_snapshot(official, period, media, monkeypatch):
    """The first snapshot row is written, the second fails: the transaction keeps neither."""
    real = services._snapshot
    calls = []

    def second_fails(**kwargs):
        calls.append(kwargs["kind"])
        if len(calls) == 2:
            raise OperationalError("数据库连接已断开")
        return real(**kwargs)

    monkeypatch.setattr(services, "_snapshot", second_fails)
    job = queued_job(official, period)
    with pytest.raises(OperationalError):
        services.report_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert calls == [ReportKind.ATTACHMENT2, ReportKind.ATTACHMENT3]
    assert job.state == JobState.FAILED and "数据库连接已断开" in job.message
    assert ReportSnapshot.objects.count() == 0


@pytest.mark.parametrize("kill", [SystemExit, KeyboardInterrupt])
def test_a_killed_compile_leaves_no_snapshot_and_the_redelivered_run_completes(kill, official, period, media, monkeypatch):
    seen = []
    real_progress_target = services.report_compile

    def killed_after_50(**kwargs):
        progress = kwargs["progress"]

        def watch(percent, message):
            progress(percent, message)
            seen.append(percent)
            if percent >= 50:
                raise kill()  # the process dies here: nothing after this line runs

        return real_progress_target(**{**kwargs, "progress": watch})

    monkeypatch.setattr(services, "report_compile", killed_after_50)
    job = queued_job(official, period)
    with pytest.raises(kill):
        compile_reports.run(job.pk)  # the task body, as the worker runs it
    job.refresh_from_db()
    assert seen[-1] == 50 and job.progress == 50
    assert (job.state, job.attempts) == (JobState.RUNNING, 1)  # nothing recorded the end: the broker redelivers
    assert ReportSnapshot.objects.count() == 0 and files_in(media) == []

    monkeypatch.setattr(services, "report_compile", real_progress_target)
    result = compile_reports.run(job.pk)  # the redelivery (acks_late + reject_on_worker_lost)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.progress, job.message) == (JobState.DONE, 2, 100, "编制完成")
    assert sorted(job.snapshots.values_list("kind", flat=True)) == sorted([ReportKind.ATTACHMENT2, ReportKind.ATTACHMENT3])
    assert ReportSnapshot.objects.count() == 2 and result["state"] == JobState.DONE
    # a third delivery of a finished job changes nothing
    compile_reports.run(job.pk)
    job.refresh_from_db()
    assert job.attempts == 2 and ReportSnapshot.objects.count() == 2


def test_the_task_is_declared_for_redelivery_after_a_killed_worker():
    assert compile_reports.acks_late is True and compile_reports.reject_on_worker_lost is True


# --- the database going away -------------------------------------------------------------------


class DatabaseGone:
    """A connection execute wrapper: every query (or only those matching ``when``) fails as if the server went away."""

    def __init__(self, when=lambda sql: True):
        self.when, self.failed = when, 0

    def __call__(self, execute, sql, params, many, context):
        if self.when(sql):
            self.failed += 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


def test_with_the_database_gone_pages_show_the_chinese_500_page(clerk, period, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(clerk)
    assert client.get(SHEET).status_code == 200
    gone = DatabaseGone()
    for url in ("/", SHEET, "/ledgers/", "/notifications/"):
        with connection.execute_wrapper(gone):
            response = client.get(url)
        page = response.content.decode()
        assert response.status_code == 500, url
        assert "服务暂时不可用" in page and "您的数据未受影响" in page, url
        assert "OperationalError" not in page and "Traceback" not in page and "server closed" not in page
    assert gone.failed >= 4


def test_with_the_database_gone_the_api_answers_in_its_error_shape(official, period, settings):
    from accounts.services import api_token_create

    settings.DEBUG = False
    _token, secret = api_token_create(user=official, name="政务平台", region=Region.objects.get(code=JINJIANG), access="read")
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {secret}")
    with connection.execute_wrapper(DatabaseGone()):
        response = client.get(f"/api/v1/periods/2022S1/regions/{JINJIANG}/checkmarks/")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error" and "服务器内部错误" in body["message"] and set(body) == {"code", "message", "errors"}


def _sheet_state(period):
    jinjiang = Region.objects.get(code=JINJIANG)
    return (
        sorted(
            Checkmark.objects.filter(region=jinjiang, period=period).values_list("indicator__number", "status", "expected_month", "note")
        ),
        Submission.objects.get(region=jinjiang, period=period).version,
        AuditEntry.objects.count(),
    )


def test_a_write_cut_off_after_its_first_statement_leaves_nothing_half_changed(clerk, period):
    from datetime import date

    jinjiang = Region.objects.get(code=JINJIANG)
    indicator_services.checkmarks_set(
        user=clerk,
        region=jinjiang,
        period=period,
        values={n: CheckmarkValue("not_done", expected_month=date(2030, 1, 1), note="原值") for n in (1, 2, 3)},
    )
    before = _sheet_state(period)
    assert before[1] == 1

    # the check-marks are updated and created, then the database goes away at the audit entries
    audit_table = AuditEntry._meta.db_table
    gone = DatabaseGone(when=lambda sql: sql.lstrip().upper().startswith("INSERT") and audit_table in sql)
    with pytest.raises(OperationalError), connection.execute_wrapper(gone):
        indicator_services.checkmarks_set(
            user=clerk,
            region=jinjiang,
            period=period,
            expected_version=1,
            values={n: CheckmarkValue("done", done_month=date(2022, 3, 1), note="新值") for n in (1, 2, 3, 4, 5)},
        )
    assert gone.failed == 1
    assert _sheet_state(period) == before  # neither the updated nor the new check-marks, version unchanged


def test_the_county_sheet_cut_off_mid_save_shows_the_500_page_and_stores_nothing(clerk, period, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(clerk)
    data = {"version": "0", "action": "save"}
    for n in [n for n in range(1, 39) if n not in (21, 27, 29, 30, 33, 37, 38)]:
        data[f"status_{n}"], data[f"done_month_{n}"] = "done", "2022-03"
    audit_table = AuditEntry._meta.db_table
    with connection.execute_wrapper(DatabaseGone(when=lambda sql: sql.lstrip().upper().startswith("INSERT") and audit_table in sql)):
        response = client.post(SHEET, data)
    assert response.status_code == 500 and "服务暂时不可用" in response.content.decode()
    assert not Checkmark.objects.filter(region__code=JINJIANG).exists()
    assert Submission.objects.filter(region__code=JINJIANG, version__gt=0).count() == 0
    assert client.post(SHEET, data).status_code == 302  # and once it is back the same form saves
    assert Checkmark.objects.filter(region__code=JINJIANG).count() == 31


# --- the broker down ------------------------------------------------------------------------------


@pytest.fixture
def broker_down(settings):
    """Celery as in the scaled setup (not eager) with its broker a closed port."""
    from config.celery import app

    keys = ("task_always_eager", "broker_url", "broker_connection_timeout", "task_publish_retry_policy")
    saved = {k: app.conf[k] for k in keys}
    app.conf.update(
        task_always_eager=False,
        broker_url="redis://127.0.0.1:1/0",
        broker_connection_timeout=1,
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1},
    )
    forget_celery_connections(app)
    yield app
    app.conf.update(saved)
    forget_celery_connections(app)


def test_with_the_broker_down_a_job_started_from_the_page_is_failed_with_a_clear_message(
    client, official, clerk, period, broker_down, django_capture_on_commit_callbacks
):
    client.force_login(official)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/reporting/?region={SICHUAN}&period=2022S1")
    assert response.status_code == 302
    job = ReportJob.objects.get()
    assert response.url == f"/jobs/{job.job_id}/"
    assert (job.state, job.message, job.attempts) == (JobState.FAILED, QUEUE_DOWN, 0)
    page = client.get(response.url)
    assert page.status_code == 200 and QUEUE_DOWN in page.content.decode() and "失败" in page.content.decode()
    status = client.get(f"/reporting/jobs/{job.pk}/status/")
    assert status.status_code == 200 and status.json()["message"] == QUEUE_DOWN
    assert ReportSnapshot.objects.count() == 0

    # the rest of the portal does not need the broker
    assert client.get("/").status_code == 200
    assert client.get(f"/reporting/?region={SICHUAN}&period=2022S1").status_code == 200
    client.force_login(clerk)
    assert client.get("/").status_code == 200
    assert client.get(SHEET).status_code == 200


def test_with_the_broker_down_the_api_job_is_created_and_reports_the_problem(
    official, period, broker_down, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    from accounts.services import api_token_create

    _token, secret = api_token_create(user=official, name="政务平台", region=Region.objects.get(code=SICHUAN), access="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/periods/2022S1/regions/{SICHUAN}/report-jobs/")
    assert response.status_code == 202
    job = ReportJob.objects.get()
    assert (job.state, job.message) == (JobState.FAILED, QUEUE_DOWN)
    detail = client.get(response["Location"])
    assert detail.status_code == 200 and detail.json()["message"] == QUEUE_DOWN
