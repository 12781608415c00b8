from celery import shared_task
from django.utils import timezone

from .services import assignments_mark_overdue


@shared_task(name="ledger.mark_overdue")
def mark_overdue():
    """Daily: past-milestone assignments become 逾期; their regions and the due-soon ones are told once."""
    marked, notified = assignments_mark_overdue(today=timezone.localdate())
    return {"overdue": marked, "notified": notified}
