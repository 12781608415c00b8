from celery import shared_task
from django.utils import timezone

from .applications import applications_batch_run
from .reminders import deadline_reminders_send


# acks_late + reject_on_worker_lost: a worker killed mid-read puts the batch back on the queue; the
# records are replaced in one transaction at the end, so nothing half-written is left.
@shared_task(name="indicators.read_application_batch", acks_late=True, reject_on_worker_lost=True)
def read_application_batch(batch_id):
    batch = applications_batch_run(batch_id=batch_id)
    return {"batch": batch.pk, "state": batch.state, "rows": batch.row_count}


# The name is the one it had in the accounts app: beat schedules stored in the database name it so.
@shared_task(name="accounts.deadline_reminders")
def deadline_reminders(days_before=None, days_after=None):
    """Daily: remind the counties still missing something, and their cities, of the deadline, before and after it."""
    return deadline_reminders_send(today=timezone.localdate(), days_before=days_before, days_after=days_after).as_dict()
