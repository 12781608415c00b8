"""A real Celery worker consuming from a real Redis runs the portal's tasks against the real database."""
import pytest
from django_celery_results.models import TaskResult

from utilities.selectors import worker_status
from utilities.tasks import heartbeat

pytestmark = [pytest.mark.integration]


def test_heartbeat_runs_on_a_real_worker(celery_worker_redis):
    result = heartbeat.delay()
    payload = result.get(timeout=30)
    assert payload["regions"] >= 3000
    assert result.status == "SUCCESS"


def test_worker_status_reads_the_stored_heartbeat(transactional_db):
    assert worker_status() == {"alive": False, "last": None}
    TaskResult.objects.create(task_id="t1", task_name="utilities.heartbeat", status="SUCCESS")
    assert worker_status()["alive"] is True
