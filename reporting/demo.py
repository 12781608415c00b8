"""Demo 附件3 figures for cities, reliability figures for the demo counties with records, and a compiled
snapshot of a province's last confirmed period."""

import random
from decimal import Decimal

from django.db import transaction

from accounts.models import Region, RegionLevel
from accounts.services import demo_company_get
from indicators.models import Channel, Period, PeriodKind, SubmissionState

from .models import Benefit, Reliability, ReportSnapshot
from .reliability import Figure, reliability_set
from .services import report_compile
from .tables import BENEFIT_CATEGORIES

BATCH = 5000
RELIABILITY_SOURCE = "演示数据（非真实数据）"


def _benefit_rows(city, company_id, year, half):
    rng = random.Random(f"{city.code}-{year}-{half}")
    for category, _label in BENEFIT_CATEGORIES:
        households = rng.randint(200, 5000) if category == "residential" else rng.randint(5, 400)
        yield Benefit(
            company_id=company_id,
            region_id=city.pk,
            year=year,
            half=half,
            category=category,
            households=households,
            investment=Decimal(rng.randint(100, 90000)) / 100,
            sales=Decimal(rng.randint(100, 50000)) / 100,
            capacity=Decimal(rng.randint(10, 9000)) / 100,
        )


@transaction.atomic
def demo_benefits_create(*, provinces=None, years=None):
    """Benefit figures for every city of ``provinces`` (default: the whole country) and every half of
    ``years`` (default: the years of the open periods). Only what is missing is written; returns the
    number of rows. Four queries, a few per province for its demo company, plus one per ``BATCH`` rows.
    """
    years = sorted(years or set(Period.objects.values_list("year", flat=True)))
    cities = Region.objects.filter(level=RegionLevel.CITY).only("pk", "code", "parent_id").order_by("code")
    if provinces is not None:
        cities = cities.filter(parent__in=provinces)
    # Each province's demo company (one per province, serving its cities) enters its cities' figures.
    companies = {
        province.pk: demo_company_get(province=province).pk
        for province in Region.objects.filter(pk__in=cities.values("parent_id")).order_by("code")
    }
    have = set(Benefit.objects.filter(region__in=cities, year__in=years).values_list("region_id", "year", "half").distinct())
    rows = [
        row
        for city in cities
        for year in years
        for half in (1, 2)
        if (city.pk, year, half) not in have
        for row in _benefit_rows(city, companies[city.parent_id], year, half)
    ]
    Benefit.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


@transaction.atomic
def demo_reports_create(*, province_code):
    """Benefit figures for every city and half-year of the demo periods; returns the snapshots made."""
    province = Region.objects.get(code=province_code)
    demo_benefits_create(provinces=[province])
    confirmed = Period.objects.filter(submissions__region=province, submissions__state=SubmissionState.CONFIRMED).order_by("-ends").first()
    if confirmed is None or ReportSnapshot.objects.filter(region=province, period=confirmed).exists():
        return []
    return report_compile(user=None, province=province, period=confirmed)


def _reliability_figure(region, year, kind):
    """SAIDI (hours) and SAIFI (times) per customer: each region its own level, a little better each
    year, a half-year about half the year's."""
    level = random.Random(f"reliability-{region.code}").uniform(0.6, 1.6)
    span = random.Random(f"reliability-{region.code}-{year}-{kind}")
    scale = level * (0.5 if kind == PeriodKind.HALF else 1) * 0.9 ** (year - 2025) * span.uniform(0.85, 1.15)
    return Figure(
        where=region.name,
        region=region.code,
        saidi=f"{4 * scale:.3f}",
        saifi=f"{1.5 * scale:.3f}",
        source=RELIABILITY_SOURCE,
    )


@transaction.atomic
def demo_reliability_create(*, user, regions, periods):
    """SAIDI/SAIFI of ``regions`` for the spans of ``periods``, entered as ``user`` through
    ``reliability_set`` (so each is a change event); a region's span that has figures is left
    alone, so a second run records no new events. Returns the number of figures stored."""
    have = set(Reliability.objects.filter(region__in=regions).values_list("region_id", "year", "kind"))
    stored = 0
    for year, kind in sorted({(p.year, p.kind) for p in periods}):
        figures = [_reliability_figure(r, year, kind) for r in regions if (r.pk, year, kind) not in have]
        if figures:
            stored += len(reliability_set(user=user, year=year, kind=kind, figures=figures, channel=Channel.SYSTEM))
    return stored
