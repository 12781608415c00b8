"""Celery tasks of the accounts app (beat runs them; see CELERY_BEAT_SCHEDULE)."""
from celery import shared_task
from django.utils import timezone

from .notifications import deadline_reminders_send


@shared_task(name="accounts.deadline_reminders")
def deadline_reminders(days_before=None, days_after=None):
    """Daily: remind the counties still missing something, and their cities, of the deadline, before and after it."""
    return deadline_reminders_send(today=timezone.localdate(), days_before=days_before, days_after=days_after).as_dict()
