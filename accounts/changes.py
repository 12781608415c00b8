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
reliability.changed  region, year, kind, saidi, saifi, source
snapshot.compiled    id, kind, period, program, region, created_at
===================  ==========================================================================
"""

from django.db import transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from utilities.hashchain import lock_head

from .models import ChainHead, ChangeEvent

CHAIN = "changes"

# Sent with ``events`` (saved ChangeEvent rows, in seq order) inside the writer's transaction.
change_recorded = Signal()

# Every type above, as officials read it (webhook subscriptions choose among these).
EVENT_TYPES = {
    "checkmark.changed": "指标填报",
    "submission.changed": "审核状态",
    "signoff.exception": "签收例外",
    "ledger_item.changed": "台账事项",
    "assignment.changed": "任务分解与进展",
    "benefit.changed": "服务效益（附件3）",
    "reliability.changed": "供电可靠性",
    "snapshot.compiled": "报表快照",
}


def event_payload(event):
    """An event as clients receive it, in the feed and in a webhook's body (one shape for both)."""
    at = timezone.localtime(event.at).isoformat()
    return {
        "id": event.public_id,
        "type": event.type,
        "object": event.object_url,
        "at": at[:-6] + "Z" if at.endswith("+00:00") else at,  # as DRF writes a time
        "channel": event.channel,
        "region": event.region.code if event.region_id else None,
        "version": event.version,
        "data": event.data,
    }


def change_event(*, type, object_url, region, channel, data, user=None, version="", org_unit=None):
    """An unsaved event, for ``changes_record``. ``org_unit``: the company unit the object is given to
    (its events are then scoped like the object, accounts.scoping)."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return ChangeEvent(
        type=type,
        object_url=object_url,
        region=region,
        channel=str(channel),
        version="" if version is None else str(version),
        user=user,
        data=data,
        org_unit=org_unit,
    )


def changes_record(events):
    """Number and save ``events`` (from ``change_event``) in the caller's transaction; returns them.

    The "changes" head is locked until the caller's transaction ends, so numbers follow commit order.
    """
    events = list(events)
    if not events:
        return events
    with transaction.atomic(savepoint=False):  # no savepoint: a failure here fails the caller's write
        # Moving the head first takes its row lock (PostgreSQL) or the write lock (SQLite) at once,
        # held until the writer commits: two statements a batch once the head exists.
        if not ChainHead.objects.filter(name=CHAIN).update(seq=F("seq") + len(events)):
            lock_head(ChainHead, CHAIN)
            ChainHead.objects.filter(name=CHAIN).update(seq=F("seq") + len(events))
        last = ChainHead.objects.filter(name=CHAIN).values_list("seq", flat=True).get()
        for seq, event in enumerate(events, start=last - len(events) + 1):
            event.seq = seq
        ChangeEvent.objects.bulk_create(events)
        change_recorded.send(sender=ChangeEvent, events=events)
    return events


def change_record(**kwargs):
    """Record one change (the keyword arguments of ``change_event``); returns the saved event."""
    return changes_record([change_event(**kwargs)])[0]
