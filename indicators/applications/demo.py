"""Demo application records: a few dozen generated applications per county and ended demo period,
written as a supply company would, through ``applications_upload`` with a CSV in the template's
layout, so they are read, checked, measured and audited like a real upload.

Deterministic (each county's period seeded by their codes); varied so the service levels and the
scorecard show something: every customer class, “三零”, small businesses (some rural ones of 100–160
kW), zero and paid investment, extra documents, and slow stages that miss the limits.
"""

import csv
import io
import random
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Region, RegionLevel
from utilities.errors import PeriodLocked

from ..demo import demo_period_codes, demo_periods_open
from ..models import Application, Area, CustomerClass, Stage, VoltageLevel
from .layout import COLUMNS
from .services import applications_upload

DEMO_CITY = "510100"  # 成都市: every county has records
# 绵阳市: its first counties too, so the province's scorecard compares two cities
DEMO_SECOND_CITY, DEMO_SECOND_CITY_COUNTIES = "510700", 3
YES = "是"
DOCUMENTS = ("身份证、房产证", "用电人有效身份证件、用电地址物权证件", "营业执照、不动产权证书")
APPROVAL = "、项目批准文件"
EXTRA = "、授权委托书"  # beyond what the standards allow: the documents rules count it a miss


def demo_counties():
    """The counties given demo records, in code order."""
    counties = Region.objects.filter(level=RegionLevel.COUNTY).order_by("code")
    return [*counties.filter(parent__code=DEMO_CITY), *counties.filter(parent__code=DEMO_SECOND_CITY)[:DEMO_SECOND_CITY_COUNTIES]]


# A period under way gets records once this much of it has passed: time for connections to finish.
RUNNING_DAYS = 90


def demo_record_periods(today=None):
    """The demo periods (national program) with connections to record: those ended, and the one under
    way once RUNNING_DAYS of it have passed (its records end before today), so a clerk's current sheet
    shows what the records say too."""
    today = today or timezone.localdate()
    periods = demo_periods_open(demo_period_codes(today))
    return [p for p in periods if p.ends < today or (today - p.starts).days >= RUNNING_DAYS]


def _calendar_days(rng, working_days):
    """Calendar days spanning about ``working_days``: the reading measures the exact working days."""
    return working_days + working_days // 5 * 2 + (rng.randint(0, 2) if working_days else 0)


def _stage_plan(rng, customer_class, three_zero, slow):
    """The stages gone through and the working days each takes; ``slow`` ones overrun the limits."""
    if customer_class == CustomerClass.RESIDENTIAL:
        plan = [(Stage.ACCEPTANCE, rng.randint(0, 1)), (Stage.CONNECTION, rng.randint(1, 3))]
    elif three_zero:
        plan = [(Stage.ACCEPTANCE, rng.randint(0, 1)), (Stage.CONNECTION, rng.randint(3, 12))]
    elif customer_class == CustomerClass.LOW_VOLTAGE:
        plan = [(Stage.ACCEPTANCE, 1), (Stage.SCHEME, rng.randint(1, 3)), (Stage.CONNECTION, rng.randint(1, 2))]
    else:
        plan = [(Stage.ACCEPTANCE, 1), (Stage.SCHEME, rng.randint(4, 10))]
        if rng.random() < 0.4:
            plan.append((Stage.DESIGN_REVIEW, rng.randint(1, 3)))
        plan += [(Stage.COMPLETION_CHECK, rng.randint(1, 3)), (Stage.CONNECTION, rng.randint(1, 3))]
    if slow:
        stage, days = plan[-1]
        plan[-1] = (stage, days + rng.randint(5, 20))
    return plan


def _record(rng, number, period, today):
    """One application as the template's cells ({field: text})."""
    customer_class = rng.choices(list(CustomerClass), weights=(45, 40, 15))[0]
    area = Area.RURAL if rng.random() < 0.3 else Area.URBAN
    low_voltage = customer_class == CustomerClass.LOW_VOLTAGE
    three_zero = low_voltage and rng.random() < 0.6
    small_micro = low_voltage and rng.random() < 0.5
    dual = customer_class == CustomerClass.HIGH_VOLTAGE and rng.random() < 0.2
    if customer_class == CustomerClass.RESIDENTIAL:
        voltage, capacity = VoltageLevel.V220, rng.randint(4, 12)
    elif low_voltage:
        # rural small businesses of 100–160 kW: under national 35, not under 24 (≤ 100 kW)
        rural_large = small_micro and area == Area.RURAL and rng.random() < 0.5
        voltage, capacity = VoltageLevel.V380, rng.randint(100, 160) if rural_large else rng.randint(10, 99)
    else:
        voltage, capacity = VoltageLevel.KV10, rng.randint(250, 5000)
    zero = customer_class == CustomerClass.RESIDENTIAL or ((small_micro or three_zero) and rng.random() < 0.9)
    documents = rng.choice(DOCUMENTS) + (APPROVAL if customer_class == CustomerClass.HIGH_VOLTAGE else "")
    if rng.random() < 0.08:
        documents += EXTRA
    plan = _stage_plan(rng, customer_class, three_zero, slow=rng.random() < 0.12)
    # Accepted on a weekday early enough for the slowest plan to be connected within the period.
    day = period.starts + timedelta(days=rng.randint(0, (min(period.ends, today) - period.starts).days - 75))
    if day.weekday() >= 5:
        day += timedelta(days=7 - day.weekday())
    cells = {
        "number": number,
        "customer_class": customer_class.label,
        "voltage": voltage.label,
        "dual_source": YES if dual else "",
        "capacity_kw": str(capacity),
        "area": area.label,
        "small_micro": YES if small_micro else "",
        "three_zero": YES if three_zero else "",
        "stage_count": str(len(plan)),
        "documents": documents,
        "investment": "0" if zero else str(rng.randint(2000, 300000)),
        "force_majeure": YES if rng.random() < 0.02 else "",
    }
    for stage, days in plan:
        end = day + timedelta(days=_calendar_days(rng, days))
        cells[f"{stage}_start"], cells[f"{stage}_end"] = day.isoformat(), end.isoformat()
        day = end + timedelta(days=rng.randint(0, 1))
    return cells


def demo_records_file(county, period, today=None):
    """A county's generated records of a period as an uploadable CSV in the template's layout."""
    today = today or timezone.localdate()
    rng = random.Random(f"applications-{county.code}-{period.code}")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in COLUMNS])
    for index in range(1, rng.randint(24, 48) + 1):
        cells = _record(rng, f"{county.code}{period.code}{index:04d}", period, today)
        writer.writerow([cells.get(c.field, "") for c in COLUMNS])
    return SimpleUploadedFile(f"{county.name}{period.code}报装记录（演示）.csv", out.getvalue().encode(), content_type="text/csv")


@transaction.atomic
def demo_applications_create(*, user, counties, periods):
    """Upload, as ``user``, the records of every county of ``counties`` in every period of
    ``periods`` that has none yet. Returns ``(records written, uploads refused as locked)``: a
    period the province has confirmed takes no upload, as for any user."""
    have = set(Application.objects.filter(region__in=counties, period__in=periods).values_list("region_id", "period_id").distinct())
    written, locked = 0, 0
    for period in periods:
        for county in counties:
            if (county.pk, period.pk) in have:
                continue
            try:
                batch = applications_upload(user=user, region=county, period=period, upload=demo_records_file(county, period))
            except PeriodLocked:
                locked += 1
                continue
            written += batch.row_count
    return written, locked
