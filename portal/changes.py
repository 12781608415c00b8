"""Events for rows stored without one: a deployment upgraded from a release before the change feed,
and the demo's bulk inserts (indicators.demo, reporting.demo), hold check-marks, review states,
sign-off exceptions, ledger items, assignments, 附件3 figures and snapshots no service recorded.
``changes_backfill`` gives each such object one event of its current state, built by the services'
own builders, so a client following the feed from the start still rebuilds everything. Here in
portal: it reads every app's models.
"""

from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.changes import changes_record
from accounts.models import ChangeEvent
from indicators.changes import CHECKMARK, EXCEPTION, SUBMISSION, checkmark_changed, exception_named, submission_changed
from indicators.models import Channel, Checkmark, SignoffException, Submission
from ledger.models import Assignment, LedgerItem
from ledger.services import ASSIGNMENT, LEDGER_ITEM, assignment_changed, ledger_item_changed
from reporting.models import Benefit, ReportSnapshot
from reporting.services import BENEFIT, SNAPSHOT, benefit_changed, snapshot_compiled

BATCH = 2000  # events per changes_record call: a fixed number of statements per batch
BACKFILL = "backfill"  # the action of an event recorded here: the object's state, not a step taken now
SYSTEM = Channel.SYSTEM


def _checkmarks():
    version = Submission.objects.filter(region=OuterRef("region"), period=OuterRef("period")).values("version")[:1]
    rows = (
        Checkmark.objects.select_related("region", "indicator", "period__program")
        .annotate(files=Count("evidence"), region_version=Coalesce(Subquery(version), Value(0)))
        .order_by("pk")
    )
    for c in rows.iterator(chunk_size=BATCH):
        yield checkmark_changed(
            checkmark=c, region=c.region, indicator=c.indicator, period=c.period, evidence=c.files, version=c.region_version, channel=SYSTEM
        )


def _named():
    """The exceptions of each sign-off (few: a county at most once per period)."""
    named = {}
    for row in SignoffException.objects.select_related("county", "submission__region", "submission__period__program").order_by("pk"):
        named.setdefault(row.submission_id, []).append(row)
    return named


def _submissions():
    named = _named()
    rows = Submission.objects.select_related("region", "period__program").order_by("pk")
    for s in rows.iterator(chunk_size=BATCH):
        yield submission_changed(
            submission=s, region=s.region, period=s.period, action=BACKFILL, channel=SYSTEM, exceptions=named.get(s.pk, ())
        )


def _exceptions():
    for rows in _named().values():
        for row in rows:
            signed = row.submission.region
            action = "accept" if signed.level == "city" else "confirm"
            yield exception_named(exception=row, signed=signed, period=row.submission.period, action=action, channel=SYSTEM)


def _ledger_items():
    rows = LedgerItem.objects.select_related("ledger__region").prefetch_related("indicators__indicator_set").order_by("pk")
    for item in rows.iterator(chunk_size=BATCH):
        yield ledger_item_changed(item=item, indicators=list(item.indicators.all()), action=BACKFILL, channel=SYSTEM)


def _assignments():
    rows = Assignment.objects.select_related("item__ledger", "region", "org_unit").order_by("pk")
    for assignment in rows.iterator(chunk_size=BATCH):
        yield assignment_changed(assignment=assignment, action=BACKFILL, note="", channel=SYSTEM)


def _benefits():
    for benefit in Benefit.objects.select_related("region", "company").order_by("pk").iterator(chunk_size=BATCH):
        yield benefit_changed(benefit=benefit, channel=SYSTEM)


def _snapshots():
    for snapshot in ReportSnapshot.objects.select_related("region", "period__program").order_by("pk").iterator(chunk_size=BATCH):
        yield snapshot_compiled(snapshot=snapshot, action=BACKFILL, channel=SYSTEM)


# Per type: the keys of ``data`` that tell its objects apart beside the object's path, and its objects' events.
SOURCES = (
    (CHECKMARK, ("indicator",), _checkmarks),
    (SUBMISSION, (), _submissions),
    (EXCEPTION, ("signoff",), _exceptions),
    (LEDGER_ITEM, (), _ledger_items),
    (ASSIGNMENT, (), _assignments),
    (BENEFIT, ("company", "category"), _benefits),
    (SNAPSHOT, (), _snapshots),
)


def _record(type, fields, events):
    """Record the ``events`` of objects with no event of ``type`` yet, BATCH at a time; returns how many."""
    # As strings: SQLite reads a string such as "640200" inside JSON back as a number.
    stored = ChangeEvent.objects.filter(type=type).values_list("object_url", *(f"data__{f}" for f in fields))
    seen = {tuple(map(str, row)) for row in stored}
    batch, recorded = [], 0
    for event in events:
        if (event.object_url, *(str(event.data[f]) for f in fields)) in seen:
            continue
        batch.append(event)
        if len(batch) == BATCH:
            changes_record(batch)
            recorded, batch = recorded + len(batch), []
    changes_record(batch)
    return recorded + len(batch)


def changes_backfill():
    """One current-state event (channel system) per object that has none; returns the number
    recorded. Running it again records nothing."""
    return sum(_record(type, fields, events()) for type, fields, events in SOURCES)
