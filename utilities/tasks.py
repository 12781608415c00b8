from celery import shared_task
from django.utils import timezone


@shared_task(name="utilities.heartbeat")
def heartbeat():
    """Beat sends this every minute; its stored result tells the pages the worker is alive.

    It reads no app's data: utilities sits below every app (issue 12 §2).
    """
    return {"at": timezone.now().isoformat()}
