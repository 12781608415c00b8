from celery import shared_task
from django.utils import timezone


@shared_task(name="utilities.heartbeat")
def heartbeat():
    """Beat sends this every minute; its stored result tells the pages the worker is alive.

    It reads no app's data: utilities sits below every app (issue 12 §2).
    """
    return {"at": timezone.now().isoformat()}


@shared_task(name="utilities.purge_idempotency")
def purge_idempotency(hours=24):
    """Delete Idempotency-Key records past their 24 hours; returns how many went."""
    from datetime import timedelta

    from .models import IdempotencyRecord

    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - timedelta(hours=hours)).delete()
    return deleted
