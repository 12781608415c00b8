"""The change feed's one writer: every service that changes what a 政务平台 may read records it here,
in its own transaction, with ``change_record`` (one) or ``changes_record`` (many, a fixed number of
statements).

An event is ``type`` (the table below), the object's API path, the region whose scope it belongs to
(``restrict`` on ChangeEvent: a region's events are seen by it and the regions above it), the
channel (web / api / import / system), the object's new version, the acting user and ``data``, the
object's new state as the API shows it. Subscribers — webhook deliveries, notices to the people who
must act — receive ``change_recorded`` with the saved events, still inside the writer's transaction,
so what they write commits or rolls back with the change.

Types and the keys of ``data`` every event of that type carries (others may be added):

===================  ==========================================================================
checkmark.changed    period, program, region, indicator (number), status, done_month,
                     expected_month, note, evidence (count)
submission.changed   period, program, region, state, action (submit / return / approve / accept /
                     confirm / reopen), reason
signoff.exception    period, program, region (the county), city, reason
ledger_item.changed  ledger, number, title, deadline, action (create / update)
assignment.changed   id, ledger, item, region (assignee), status, deadline, action (assign /
                     progress / return / approve / press / overdue), note
benefit.changed      company, region, year, half, households, saved_cost (as stored)
snapshot.compiled    id, kind, period, program, region, created_at
===================  ==========================================================================
"""

from django.db import transaction
from django.dispatch import Signal

from utilities.hashchain import lock_head

from .models import ChainHead, ChangeEvent

CHAIN = "changes"

# Sent with ``events`` (saved ChangeEvent rows, in seq order) inside the writer's transaction.
change_recorded = Signal()


def change_event(*, type, object_url, region, channel, data, user=None, version=""):
    """An unsaved event, for ``changes_record``."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return ChangeEvent(
        type=type,
        object_url=object_url,
        region=region,
        channel=str(channel),
        version=str(version or ""),
        user=user,
        data=data,
    )


def changes_record(events):
    """Number and save ``events`` (from ``change_event``) in the caller's transaction; returns them.

    The "changes" head is locked until the caller's transaction ends, so numbers follow commit order.
    """
    events = list(events)
    if not events:
        return events
    with transaction.atomic():
        head = lock_head(ChainHead, CHAIN)
        for event in events:
            head.seq += 1
            event.seq = head.seq
        ChainHead.objects.filter(name=CHAIN).update(seq=head.seq)
        ChangeEvent.objects.bulk_create(events)
        change_recorded.send(sender=ChangeEvent, events=events)
    return events


def change_record(**kwargs):
    """Record one change (the keyword arguments of ``change_event``); returns the saved event."""
    return changes_record([change_event(**kwargs)])[0]
