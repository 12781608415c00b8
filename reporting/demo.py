"""Demo 附件3 figures for cities and a compiled snapshot of a province's last confirmed period."""

import random
from decimal import Decimal

from django.db import transaction

from accounts.models import Region, RegionLevel
from accounts.services import demo_company_get
from indicators.models import Period, SubmissionState

from .models import Benefit, ReportSnapshot
from .services import report_compile
from .tables import BENEFIT_CATEGORIES

BATCH = 5000


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
