"""A real Celery worker consuming from a real Redis runs the portal's tasks against the real database."""

from datetime import datetime

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult

from utilities.selectors import worker_status
from utilities.tasks import heartbeat

pytestmark = [pytest.mark.integration]


def test_heartbeat_runs_on_a_real_worker(celery_worker_redis):
    result = heartbeat.delay()
    payload = result.get(timeout=30)
    answered = datetime.fromisoformat(payload["at"])
    assert abs((timezone.now() - answered).total_seconds()) < 60
    assert result.status == "SUCCESS"


def test_worker_status_reads_the_stored_heartbeat(transactional_db):
    assert worker_status() == {"alive": False, "last": None}
    TaskResult.objects.create(task_id="t1", task_name="utilities.heartbeat", status="SUCCESS")
    assert worker_status()["alive"] is True


def test_a_compile_job_runs_on_a_real_worker(celery_worker_redis, make_user, settings, tmp_path):
    """The page's path: the job is queued on commit, a worker takes it from Redis, compiles, and the
    job row reports progress and the snapshots."""
    import time

    from accounts.models import Region
    from indicators.services import period_open
    from reporting.models import JobState, ReportJob
    from reporting.services import report_job_start

    settings.MEDIA_ROOT = tmp_path
    period = period_open(code="2022S1")[0]
    job = report_job_start(user=make_user("p", "province", "640000"), province=Region.objects.get(code="640000"), period=period)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = ReportJob.objects.get(pk=job.pk)
        if job.state in (JobState.DONE, JobState.FAILED):
            break
        time.sleep(0.2)
    assert (job.state, job.progress, job.attempts) == (JobState.DONE, 100, 1), job.message
    assert sorted(job.snapshots.values_list("kind", flat=True)) == ["attachment2", "attachment3"]
