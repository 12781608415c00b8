from celery import shared_task
from django.utils import timezone

from accounts.models import Region


@shared_task(name="utilities.heartbeat")
def heartbeat():
    """Beat sends this every minute; its stored result tells the pages the worker is alive."""
    return {"at": timezone.now().isoformat(), "regions": Region.objects.count()}
