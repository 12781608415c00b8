"""Demo progress: varied, cumulative check-marks for a province's counties over four periods.

Bulk-written (no AuditEntry per value) because it stands for history before the portal existed;
deterministic (seeded by the county code) so a demo looks the same on every machine.
"""
import random
from datetime import date

from django.db import transaction
from django.utils import timezone

from accounts.models import Region

from .models import Checkmark, CheckmarkStatus, IndicatorSet, Period, Submission, SubmissionState
from .services import period_open


def demo_period_codes(today):
    """The last four periods up to the one being filled now (the current year's 全年)."""
    y = today.year
    return [f"{y - 1}S1", f"{y - 1}", f"{y}S1", f"{y}"]


def _month_in(period, rng):
    return date(period.year, rng.randint(period.starts.month, period.ends.month), 1)


def _months_after(day, n):
    month = day.month - 1 + n
    return date(day.year + month // 12, month % 12 + 1, 1)


@transaction.atomic
def demo_progress_create(*, province_code, today=None):
    """Open the demo periods and fill the province's counties; returns the number of check-marks written."""
    today = today or timezone.localdate()
    province = Region.objects.get(code=province_code)
    indicator_set = IndicatorSet.objects.get(code="national-2021")
    if Checkmark.objects.filter(region__path__startswith=province.path).exists():
        return 0
    indicators = list(indicator_set.indicators.order_by("number"))
    county_indicators = [i for i in indicators if i.level == "county"]
    province_indicators = [i for i in indicators if i.level == "province"]
    counties = list(Region.objects.filter(level="county", path__startswith=province.path).order_by("code"))
    cities = list(Region.objects.filter(parent=province))
    codes = demo_period_codes(today)
    state = {}  # (region id, indicator id) → (status, done month, expected month), carried over
    written = 0
    for index, code in enumerate(codes):
        period = Period.objects.filter(code=code).first() or period_open(code=code, indicator_set=indicator_set)[0]
        Checkmark.objects.filter(period=period, region__path__startswith=province.path).delete()
        current = index == len(codes) - 1
        marks = []
        for county in counties:
            rng = random.Random(f"{county.code}-{code}")
            pace = 0.25 + 0.5 * random.Random(county.code).random()
            for indicator in county_indicators:
                key = (county.pk, indicator.pk)
                status, done, expected = state.get(key, ("", None, None))
                if status != CheckmarkStatus.DONE:
                    if rng.random() < pace:
                        status, done, expected = CheckmarkStatus.DONE, _month_in(period, rng), None
                    elif expected is None or expected < period.ends or rng.random() < 0.3:
                        # a promise, sometimes one that has already slipped
                        status, done, expected = CheckmarkStatus.NOT_DONE, None, _months_after(period.ends, rng.randint(-2, 8))
                if current and county.code == "510104" and indicator.number in (3, 7, 12):
                    continue  # the demo county still has a few indicators to fill
                state[key] = (status, done, expected)
                marks.append(Checkmark(region=county, period=period, indicator=indicator, status=status, done_month=done, expected_month=expected))
        for indicator in province_indicators:
            rng = random.Random(f"{province.code}-{indicator.number}-{code}")
            done = indicator.number in (21, 30, 33) or rng.random() < 0.5 + 0.15 * index
            if indicator.encouraging:
                status, expected = (CheckmarkStatus.DONE if done else ""), None
            else:
                status, expected = (CheckmarkStatus.DONE, None) if done else (CheckmarkStatus.NOT_DONE, _months_after(period.ends, 3))
            marks.append(Checkmark(region=province, period=period, indicator=indicator, status=status, expected_month=expected))
        Checkmark.objects.bulk_create(marks, batch_size=2000)
        written += len(marks)
        _demo_states(period, province, cities, counties, current)
    return written


def _demo_states(period, province, cities, counties, current):
    """Past periods confirmed; the current one in every state of the review flow."""
    Submission.objects.filter(period=period, region__path__startswith=province.path).delete()
    now = timezone.now()
    rows = []
    for county in counties:
        if not current:
            state = SubmissionState.APPROVED
        elif county.code == "510104":
            state = SubmissionState.DRAFT
        elif county.code == "510105":
            state = SubmissionState.SUBMITTED
        else:
            state = random.Random(f"state-{county.code}").choice(
                [SubmissionState.DRAFT, SubmissionState.DRAFT, SubmissionState.SUBMITTED, SubmissionState.RETURNED,
                 SubmissionState.APPROVED, SubmissionState.APPROVED]
            )
        reason = "指标 8 的完成月份与佐证材料不符，请核实。" if state == SubmissionState.RETURNED else ""
        rows.append(Submission(region=county, period=period, state=state, reason=reason, state_changed_at=now))
    if not current:
        rows += [Submission(region=c, period=period, state=SubmissionState.ACCEPTED, state_changed_at=now) for c in cities]
        rows.append(Submission(region=province, period=period, state=SubmissionState.CONFIRMED, state_changed_at=now))
    Submission.objects.bulk_create(rows, batch_size=2000)
