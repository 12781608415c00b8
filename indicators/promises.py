"""Promises (issue 8 §3): every expected completion month a region gives for an indicator, and
what became of it.

**Chains.** A region's Promise rows of one indicator, in ``given_at`` order (ties by pk), are a
*chain*: the first row is when the month was first given, each further row a move from the month
before it to its own. A chain is read for a period: its rows given in that period or before, and
the period's check-mark.

**Recording.** ``promises_record`` runs inside ``services.checkmarks_set`` (so pages, the API and
the 附件2 import all record), in its transaction, for the check-marks the call changes: a check-mark
left 未完成 with an expected month that differs from its chain's last month (or with no chain yet)
adds a row — given_at the check-mark's ``updated_at``, given_by the writer, the call's channel. A
check-mark done or blanked adds nothing and ends nothing: a later 未完成 is compared with the
chain's last month. A check-mark carried into a new period (``period_open``) keeps its month, so
it is not a new promise; neither is a change of the note alone.

**Backfill.** ``promises_backfill`` builds the rows from the stored check-marks, for the data
migration (0004) and the demo. Per (region, indicator), the 未完成 check-marks with an expected
month in period order: a row whenever the month differs from the chain's last — what live
recording would have written had each period's last state been its only one, so moves within a
period are not recovered (the audit trail keeps them). given_at/given_by are the check-mark's
``updated_at``/``updated_by``; the channel is 系统.

**Outcome** (``chain_outcome``), for a chain read against a period's check-mark and ``today``:

- *slipped* (已推迟/逾期), when any of
  1. a promise was moved to a later month than the one before it;
  2. the check-mark is done in a month after the first month given (done late);
  3. the check-mark is not done and the month in force (the last given) is before ``today``'s month
     (the promised month ended without done);
- *kept* (已兑现): done, in or before the first month given, and never moved later;
- *open* (未到期): not done, never moved later, and the month in force not yet passed.

Moving a promise earlier is not a slip. While not done, the earlier month is the one in force
(it is overdue once it has passed, as the sheet and the heat map mark it); once done, the chain is
judged against the first month given, so a chain moved earlier and done by its first month is kept.
"Done" is a complete check-mark: a county's √ needs its month; a province's 已完成 may lack it and
then counts from the month it was marked (its ``updated_at``).

Every selector reads a fixed number of queries, however many regions it is given.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .models import Channel, Checkmark, CheckmarkStatus, Indicator, IndicatorLevel, Period, Promise, month_label


class Outcome(models.TextChoices):
    KEPT = "kept", "已兑现"
    SLIPPED = "slipped", "已推迟/逾期"
    OPEN = "open", "未到期"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str


def chain_outcome(months, *, done_month=None, today):
    """The outcome of a chain whose promised months are ``months`` (in order, at least one), with
    the check-mark done in ``done_month`` (None: not done), as of ``today``. Pure."""
    months = list(months)
    if not months:
        raise ValueError("a chain has at least one promise")
    first, current = months[0], months[-1]
    for before, after in zip(months, months[1:]):
        if after > before:
            return Verdict(Outcome.SLIPPED, f"承诺完成月份由{month_label(before)}推迟至{month_label(after)}")
    if done_month is not None:
        if done_month > first:
            return Verdict(Outcome.SLIPPED, f"{month_label(done_month)}完成，晚于承诺的{month_label(first)}")
        return Verdict(Outcome.KEPT, f"{month_label(done_month)}完成，未晚于承诺的{month_label(first)}")
    if current < today.replace(day=1):
        return Verdict(Outcome.SLIPPED, f"承诺的{month_label(current)}已过，尚未完成")
    return Verdict(Outcome.OPEN, f"承诺{month_label(current)}完成，尚未到期")


def done_month_of(*, level, status, done_month, updated_at):
    """The month a check-mark counts as done in, or None when it is not (completely) done."""
    if status != CheckmarkStatus.DONE:
        return None
    if done_month is not None:
        return done_month
    if level == IndicatorLevel.PROVINCE and updated_at is not None:
        return timezone.localtime(updated_at).date().replace(day=1)
    return None  # a county's √ without its month is incomplete


# --- recording -------------------------------------------------------------------------------------


def promises_record(*, checkmarks, user, channel):
    """Add a Promise for each of ``checkmarks`` (saved or about to be, in the caller's transaction)
    left 未完成 with an expected month other than its chain's last. Returns the rows written.

    One query reads the last months of the chains of all ``checkmarks`` (done ones too: a write
    costs the same statements whatever its values say), one bulk insert writes the new rows when
    there are any; nothing at all when ``checkmarks`` is empty."""
    if not checkmarks:
        return []
    latest = {}
    rows = (
        Promise.objects.filter(region_id__in={c.region_id for c in checkmarks}, indicator_id__in={c.indicator_id for c in checkmarks})
        .order_by("given_at", "pk")
        .values_list("region_id", "indicator_id", "month")
    )
    for region_id, indicator_id, month in rows:
        latest[region_id, indicator_id] = month
    given_by = user if user is not None and user.is_authenticated else None
    now = timezone.now()
    new = [
        Promise(
            region_id=c.region_id,
            indicator_id=c.indicator_id,
            period_id=c.period_id,
            month=c.expected_month,
            given_at=c.updated_at or now,
            given_by=given_by,
            channel=Channel(channel),
        )
        for c in checkmarks
        if c.status == CheckmarkStatus.NOT_DONE
        and c.expected_month is not None
        and latest.get((c.region_id, c.indicator_id)) != c.expected_month
    ]
    Promise.objects.bulk_create(new)
    return new


def promises_backfill(*, checkmark_model, promise_model, path=None, batch_size=2000):
    """Rebuild the Promise rows of the regions under ``path`` (every region when None) from their
    check-marks, as the module docstring says; returns the number of rows written.

    Takes the model classes so that the data migration can pass its historical models: it uses no
    field that migration 0003 did not have, and no manager method beyond the plain ones. A fixed
    number of queries per ``batch_size`` check-marks, never one per region.
    """
    marks = checkmark_model.objects.filter(status=CheckmarkStatus.NOT_DONE.value, expected_month__isnull=False)
    existing = promise_model.objects.all()
    if path is not None:
        marks = marks.filter(region__path__startswith=path)
        existing = existing.filter(region__path__startswith=path)
    existing.delete()
    rows = (
        marks.order_by("region_id", "indicator_id", "period__ends", "pk")
        .values_list("region_id", "indicator_id", "period_id", "expected_month", "updated_at", "updated_by_id")
        .iterator(chunk_size=batch_size)
    )
    batch, written, last = [], 0, None
    for region_id, indicator_id, period_id, month, updated_at, updated_by_id in rows:
        if last == (region_id, indicator_id, month):
            continue  # carried over, or the same month given again: not a new promise
        last = (region_id, indicator_id, month)
        batch.append(
            promise_model(
                region_id=region_id,
                indicator_id=indicator_id,
                period_id=period_id,
                month=month,
                given_at=updated_at,
                given_by_id=updated_by_id,
                channel=Channel.SYSTEM.value,
            )
        )
        if len(batch) >= batch_size:
            promise_model.objects.bulk_create(batch)
            written, batch = written + len(batch), []
    promise_model.objects.bulk_create(batch)
    return written + len(batch)


# --- reading -----------------------------------------------------------------------------------------


@dataclass
class Step:
    """One Promise row of a chain, with the month before it (None for the first)."""

    month: date
    given_at: datetime
    previous: date | None = None
    given_by: object = None
    period: object = None
    channel: str = ""

    @property
    def later(self):
        return self.previous is not None and self.month > self.previous

    @property
    def channel_label(self):
        return Channel(self.channel).label if self.channel else ""


@dataclass
class Chain:
    region_id: int
    indicator: object  # Indicator
    steps: list = field(default_factory=list)
    done_month: date | None = None
    verdict: Verdict | None = None

    @property
    def first(self):
        return self.steps[0]

    @property
    def current(self):
        return self.steps[-1]

    @property
    def moves(self):
        return self.steps[1:]

    @property
    def outcome(self):
        return self.verdict.outcome


def _promises(*, regions, period):
    """The Promise rows of ``regions`` (a queryset or ids) given up to ``period``, for its set's
    indicators, in chain order."""
    return Promise.objects.filter(
        region__in=regions,
        indicator__indicator_set=period.indicator_set_id,
        period__ends__lte=period.ends,
    ).order_by("region_id", "indicator_id", "given_at", "pk")


def promise_months(*, regions, period):
    """{(region id, indicator id): [month, …]} in chain order (one query): what the heat map needs."""
    months = defaultdict(list)
    for region_id, indicator_id, month in _promises(regions=regions, period=period).values_list("region_id", "indicator_id", "month"):
        months[region_id, indicator_id].append(month)
    return months


def chains(*, regions, period, today=None, people=False):
    """The chains of ``regions`` (a queryset or ids) read for ``period``, each with its steps and
    verdict, in region and indicator order. Three queries; with ``people`` (when and by whom each
    promise was given, and in which period, for the history pages) five. The rows are read as
    values, the indicators, people and periods once each: a province holds thousands of promises,
    and a model instance per row (and per joined row) cost most of its promises page (issue 17 §9)."""
    today = today or timezone.localdate()
    fields = ["region_id", "indicator_id", "month", "channel", "given_at", "given_by_id", "period_id"]
    rows = _promises(regions=regions, period=period).values_list(*fields[: 7 if people else 4])
    indicators = Indicator.objects.filter(indicator_set=period.indicator_set_id).in_bulk()
    users = periods = {}
    if people:
        users = get_user_model().objects.filter(pk__in=_promises(regions=regions, period=period).values("given_by")).in_bulk()
        periods = Period.objects.filter(ends__lte=period.ends).in_bulk()
    found = {}
    for region_id, indicator_id, month, channel, *when_who in rows:
        chain = found.get((region_id, indicator_id))
        if chain is None:
            chain = found[region_id, indicator_id] = Chain(region_id, indicators[indicator_id])
        given_at, given_by, given_in = (when_who[0], users.get(when_who[1]), periods.get(when_who[2])) if people else (None, None, None)
        chain.steps.append(Step(month, given_at, chain.steps[-1].month if chain.steps else None, given_by, given_in, channel))
    done = (
        Checkmark.objects.filter(region__in=regions, period=period, status=CheckmarkStatus.DONE)
        .filter(Exists(Promise.objects.filter(region=OuterRef("region"), indicator=OuterRef("indicator"))))
        .values_list("region_id", "indicator_id", "indicator__level", "status", "done_month", "updated_at")
    )
    for region_id, indicator_id, level, status, done_month, updated_at in done:
        chain = found.get((region_id, indicator_id))
        if chain is not None:
            chain.done_month = done_month_of(level=level, status=status, done_month=done_month, updated_at=updated_at)
    result = sorted(found.values(), key=lambda c: (c.region_id, c.indicator.number))
    for chain in result:
        chain.verdict = chain_outcome([s.month for s in chain.steps], done_month=chain.done_month, today=today)
    return result


def outcome_counts(chain_list):
    """{region id: {"kept": n, "slipped": n, "open": n}} of the chains given."""
    counts = defaultdict(lambda: dict.fromkeys(Outcome.values, 0))
    for chain in chain_list:
        counts[chain.region_id][chain.outcome] += 1
    return counts


def slipped_by_region(*, regions, period, today=None):
    """For the reminders: {region id: [(indicator label, first month, current month), …]} of the
    slipped chains of ``regions`` (a queryset or ids) in ``period``, in indicator order; regions
    without a slipped chain are left out. Two queries."""
    slipped = defaultdict(list)
    for chain in chains(regions=regions, period=period, today=today):
        if chain.outcome == Outcome.SLIPPED:
            slipped[chain.region_id].append((chain.indicator.label, chain.first.month, chain.current.month))
    return dict(slipped)
