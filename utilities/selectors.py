from django.utils import timezone
from django_celery_results.models import TaskResult

HEARTBEAT_STALE_SECONDS = 180


def worker_status():
    """When the Celery worker last answered the beat's heartbeat, and whether that is recent."""
    last = (
        TaskResult.objects.filter(task_name="utilities.heartbeat", status="SUCCESS")
        .order_by("-date_done")
        .values_list("date_done", flat=True)
        .first()
    )
    if last is None:
        return {"alive": False, "last": None}
    return {"alive": (timezone.now() - last).total_seconds() < HEARTBEAT_STALE_SECONDS, "last": last}
