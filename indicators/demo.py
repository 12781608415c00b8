"""Demo progress: varied, cumulative check-marks for counties over several periods.

Bulk-written (no AuditEntry per value) because it stands for history before the portal existed;
deterministic (seeded by the county code) so a demo looks the same on every machine.

Two scales share one generator:

- ``demo_progress_create``: one province (Sichuan for ``seed_demo``) over the last four periods;
- ``demo_national_progress_create``: every province of the country (``seed_demo --scale national``),
  written in batches of ``BATCH`` rows, so the number of queries grows with the rows written, never
  per county.

Both are idempotent: a province that already holds check-marks in every demo period is left alone.
Each past period's check-marks are stamped as written near its deadline, and the promises (issue 8
§3) are rebuilt from them with ``promises.promises_backfill``, as the data migration does.
"""

import random
from datetime import date, datetime, time, timedelta

from django.db import connection, models, transaction
from django.db.models import Count
from django.utils import timezone

from accounts import policy
from accounts.models import Region, RegionLevel, User

from .models import Channel, Checkmark, CheckmarkStatus, IndicatorSet, Period, Program, Promise, Submission, SubmissionState
from .periods import period_code
from .promises import promises_backfill
from .review import city_accept
from .services import period_open

BATCH = 5000  # rows per bulk_create call (the backend splits it into statements of its own size)
DEMO_DRAFT_COUNTY = "510104"  # 锦江区 (demo_county): still filling the current period
DEMO_SUBMITTED_COUNTY = "510105"  # 青羊区 (demo_county2): submitted, waiting for the city
# 攀枝花市 accepted in the current period without 盐边县, named an exception (issue 8 §4)
DEMO_EXCEPTION_CITY, DEMO_EXCEPTION_COUNTY = "510400", "510422"
DONE, NOT_DONE = CheckmarkStatus.DONE.value, CheckmarkStatus.NOT_DONE.value  # plain text for bulk_insert


def demo_period_codes(today, count=4):
    """The last ``count`` periods up to the one being filled now (the current year's 全年), oldest first."""
    years = range(today.year - (count + 1) // 2 + 1, today.year + 1)
    return [period_code(year, kind) for year in years for kind in ("half", "year")][-count:]


def demo_periods_open(codes, program=Program.NATIONAL):
    """The program's demo periods (the national one's unless told), oldest first, each opened
    through ``period_open`` if it is not open yet."""
    existing = {p.code: p for p in Period.objects.filter(program__code=program, code__in=codes)}
    return [existing.get(code) or period_open(code=code, program=program)[0] for code in codes]


def _month_in(period, rng, today):
    month = date(period.year, rng.randint(period.starts.month, period.ends.month), 1)
    return min(month, today.replace(day=1))  # never done in a month still to come


def _written_at(period, rng, now):
    """When a past period's check-marks were last written: office hours of a day in the fortnight
    before its deadline, never later than ``now``. Its own ``rng``: the demo's values stay the same."""
    day = period.deadline - timedelta(days=rng.randint(1, 14))
    return min(timezone.make_aware(datetime.combine(day, time(9 + rng.randint(0, 8), rng.randint(0, 59)))), now)


def _months_after(day, n):
    month = day.month - 1 + n
    return date(day.year + month // 12, month % 12 + 1, 1)


class _Indicators:
    """The national set's county and province indicators, read once."""

    def __init__(self):
        indicators = list(IndicatorSet.objects.get(code="national-2021").indicators.order_by("number"))
        self.county = [i for i in indicators if i.level == "county"]
        self.province = [i for i in indicators if i.level == "province"]


def _province_marks(province, counties, periods, indicators, today):
    """Per period (oldest first), the province's check-marks (its counties' 31 and its own 7) and
    Submissions, as rows for ``bulk_insert``.

    Cumulative: a county's indicator once done stays done; a promise may slip to a later month.
    """
    state = {}  # (county id, indicator id) → (status, done month, expected month), carried over
    last, now = len(periods) - 1, timezone.now()
    for index, period in enumerate(periods):
        current = index == last
        marks = []
        for county in counties:
            rng = random.Random(f"{county.code}-{period.code}")
            written_at = now if current else _written_at(period, random.Random(f"written-{county.code}-{period.code}"), now)
            pace = 0.25 + 0.5 * random.Random(county.code).random()
            county_id, draft = county.pk, current and county.code == DEMO_DRAFT_COUNTY
            for indicator in indicators.county:
                key = (county_id, indicator.pk)
                status, done, expected = state.get(key, ("", None, None))
                if status != DONE:
                    if rng.random() < pace:
                        status, done, expected = DONE, _month_in(period, rng, today), None
                    elif expected is None or expected < period.ends or rng.random() < 0.3:
                        # a promise, sometimes one that has already slipped
                        status, done, expected = NOT_DONE, None, _months_after(period.ends, rng.randint(-2, 8))
                if draft and indicator.number in (3, 7, 12):
                    continue  # the demo county still has a few indicators to fill
                state[key] = (status, done, expected)
                marks.append(
                    {
                        "region_id": county_id,
                        "period_id": period.pk,
                        "indicator_id": key[1],
                        "status": status,
                        "done_month": done,
                        "expected_month": expected,
                        "updated_at": written_at,
                    }
                )
        written_at = now if current else _written_at(period, random.Random(f"written-{province.code}-{period.code}"), now)
        for indicator in indicators.province:
            rng = random.Random(f"{province.code}-{indicator.number}-{period.code}")
            done = indicator.number in (21, 30, 33) or rng.random() < 0.5 + 0.15 * index
            if indicator.encouraging:
                status, expected = (DONE if done else ""), None
            else:
                status, expected = (DONE, None) if done else (NOT_DONE, _months_after(period.ends, 3))
            marks.append(
                {
                    "region_id": province.pk,
                    "period_id": period.pk,
                    "indicator_id": indicator.pk,
                    "status": status,
                    "done_month": None,
                    "expected_month": expected,
                    "updated_at": written_at,
                }
            )
        yield period, marks, _province_submissions(period, province, counties, current)


def _province_submissions(period, province, counties, current):
    """Past periods confirmed; the current one in every state of the review flow."""
    now = timezone.now()
    cities = sorted({county.parent_id for county in counties})
    rows = []
    for county in counties:
        if not current:
            state = SubmissionState.APPROVED.value
        elif county.code == DEMO_DRAFT_COUNTY:
            state = SubmissionState.DRAFT.value
        elif county.code == DEMO_SUBMITTED_COUNTY:
            state = SubmissionState.SUBMITTED.value
        else:
            state = random.Random(f"state-{county.code}").choice(
                [
                    SubmissionState.DRAFT.value,
                    SubmissionState.DRAFT.value,
                    SubmissionState.SUBMITTED.value,
                    SubmissionState.RETURNED.value,
                    SubmissionState.APPROVED.value,
                    SubmissionState.APPROVED.value,
                ]
            )
        reason = "指标 8 的完成月份与佐证材料不符，请核实。" if state == SubmissionState.RETURNED.value else ""
        rows.append({"region_id": county.pk, "period_id": period.pk, "state": state, "reason": reason, "state_changed_at": now})
    if not current:
        rows += [{"region_id": c, "period_id": period.pk, "state": SubmissionState.ACCEPTED.value, "state_changed_at": now} for c in cities]
        rows.append({"region_id": province.pk, "period_id": period.pk, "state": SubmissionState.CONFIRMED.value, "state_changed_at": now})
    return rows


def bulk_insert(model, rows):
    """Insert ``rows`` (dicts of attribute names to values) into ``model``'s table as multi-row
    INSERT statements: a fixed number of statements per batch, like ``bulk_create``, at a fraction of
    its cost per value.

    ``bulk_create`` builds a model instance per row and prepares every value through its field
    (together about 15 µs a row): for the national demo's 700,000 check-marks that was most of a
    minute. Here a column missing from a row takes the field's default, ``auto_now`` stamps are taken
    once per call unless a row gives its own, dates are adapted by the backend's own adapters, and
    primary keys are not read back. Portable SQL (SQLite and PostgreSQL). Returns the number of rows.
    """
    if not rows:
        return 0
    ops, now = connection.ops, timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = []  # (attname, default, adapter)
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            columns.append((field.attname, ops.adapt_datetimefield_value(now), ops.adapt_datetimefield_value))
            continue
        adapter = None
        if isinstance(field, models.DateTimeField):
            adapter = ops.adapt_datetimefield_value
        elif isinstance(field, models.DateField):
            adapter = ops.adapt_datefield_value
        default = field.get_default()
        columns.append((field.attname, adapter(default) if adapter and default is not None else default, adapter))
    values = []
    for row in rows:
        for name, default, adapter in columns:
            value = row.get(name, default)
            values.append(adapter(value) if adapter is not None and value is not None and name in row else value)
    width = len(columns)
    per_statement = (connection.features.max_query_params or 30000) // width
    sql_columns = ", ".join(ops.quote_name(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * width) + ")"
    table = ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            count = min(per_statement, len(rows) - start)
            cursor.execute(
                f"INSERT INTO {table} ({sql_columns}) VALUES {', '.join([one] * count)}",
                values[start * width : (start + count) * width],
            )
    return len(rows)


def _counties_by_province(provinces):
    """Every county of ``provinces``, grouped by province id, in code order (one query)."""
    ids = {p.path: p.pk for p in provinces}
    grouped = {p.pk: [] for p in provinces}
    counties = Region.objects.filter(level=RegionLevel.COUNTY).only("pk", "code", "parent_id", "path").order_by("code")
    for county in counties:
        province_id = ids.get(county.path[:7])
        if province_id is not None:
            grouped[province_id].append(county)
    return grouped


def _write(provinces, periods, today):
    """Delete whatever the provinces hold in the demo periods, then write them anew, in batches."""
    indicators = _Indicators()
    counties = _counties_by_province(provinces)
    written, marks, submissions = 0, [], []

    def flush():
        bulk_insert(Checkmark, marks)
        bulk_insert(Submission, submissions)
        marks.clear()
        submissions.clear()

    for province in provinces:
        Checkmark.objects.filter(period__in=periods, region__path__startswith=province.path).delete()
        Submission.objects.filter(period__in=periods, region__path__startswith=province.path).delete()
        for _period, period_marks, period_submissions in _province_marks(province, counties[province.pk], periods, indicators, today):
            marks.extend(period_marks)
            submissions.extend(period_submissions)
            written += len(period_marks)
            if len(marks) >= BATCH:
                flush()
    flush()
    for province in provinces:
        promises_backfill(checkmark_model=Checkmark, promise_model=Promise, path=province.path)
    return written


@transaction.atomic
def demo_progress_create(*, province_code, today=None):
    """Open the demo periods and fill the province's counties; returns the number of check-marks written."""
    today = today or timezone.localdate()
    province = Region.objects.get(code=province_code)
    if Checkmark.objects.filter(region__path__startswith=province.path).exists():
        return 0
    periods = demo_periods_open(demo_period_codes(today))
    written = _write([province], periods, today)
    _demo_signoff(province, periods[-1])
    return written


def _demo_signoff(province, period):
    """The demo city's counties approved but one, and the city accepted with that one named an
    exception, through the service (so the audit records it). Needs the province's demo official."""
    official = User.objects.filter(policy.province_officials_q(region=province)).order_by("pk").first()
    city = Region.objects.filter(code=DEMO_EXCEPTION_CITY, parent=province).first()
    if official is None or city is None:
        return
    submissions = Submission.objects.filter(region__parent=city, period=period)
    submissions.exclude(region__code=DEMO_EXCEPTION_COUNTY).update(state=SubmissionState.APPROVED)
    submissions.filter(region__code=DEMO_EXCEPTION_COUNTY).update(state=SubmissionState.SUBMITTED)
    county = Region.objects.get(code=DEMO_EXCEPTION_COUNTY)
    city_accept(
        user=official, region=city, period=period, channel=Channel.SYSTEM, exceptions={county: "县供电公司营销系统升级，数据延后上报"}
    )


def demo_national_progress_create(*, today=None, period_count=8, province_codes=None):
    """Every county of the country (or of ``province_codes``) over the last ``period_count`` periods.

    Returns ``(check-marks written, provinces written)``. A province that already has check-marks
    in every demo period is skipped, so a second run writes nothing; one with only some (e.g.
    Sichuan after the default ``seed_demo``) is rewritten over the whole span. One transaction per
    province, so an interrupted run leaves whole provinces behind and the next run completes it.
    """
    today = today or timezone.localdate()
    periods = demo_periods_open(demo_period_codes(today, period_count))
    provinces = Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code")
    if province_codes:
        provinces = provinces.filter(code__in=province_codes)
    filled = dict(
        Checkmark.objects.filter(period__in=periods, region__level=RegionLevel.PROVINCE)
        .values_list("region_id")
        .annotate(n=Count("period", distinct=True))
        .order_by()
    )
    todo = [p for p in provinces if filled.get(p.pk, 0) < len(periods)]
    written = 0
    for province in todo:
        with transaction.atomic():
            written += _write([province], periods, today)
    return written, len(todo)
