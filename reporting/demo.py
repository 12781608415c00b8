"""Demo 附件3 figures for a province's cities and a compiled snapshot of its last confirmed period."""
import random
from decimal import Decimal

from django.db import transaction

from accounts.models import Region
from indicators.models import Period, SubmissionState

from .models import Benefit, ReportSnapshot
from .services import report_compile
from .tables import BENEFIT_CATEGORIES


@transaction.atomic
def demo_reports_create(*, province_code):
    """Benefit figures for every city and half-year of the demo periods; returns the snapshots made."""
    province = Region.objects.get(code=province_code)
    years = sorted(set(Period.objects.values_list("year", flat=True)))
    if Benefit.objects.filter(region__path__startswith=province.path).exists():
        return []
    rows = []
    for city in Region.objects.filter(parent=province):
        for year in years:
            for half in (1, 2):
                rng = random.Random(f"{city.code}-{year}-{half}")
                for category, _label in BENEFIT_CATEGORIES:
                    households = rng.randint(200, 5000) if category == "residential" else rng.randint(5, 400)
                    rows.append(Benefit(
                        region=city, year=year, half=half, category=category, households=households,
                        investment=Decimal(rng.randint(100, 90000)) / 100, sales=Decimal(rng.randint(100, 50000)) / 100,
                        capacity=Decimal(rng.randint(10, 9000)) / 100,
                    ))
    Benefit.objects.bulk_create(rows)
    confirmed = (
        Period.objects.filter(submissions__region=province, submissions__state=SubmissionState.CONFIRMED)
        .order_by("-ends").first()
    )
    if confirmed is None or ReportSnapshot.objects.filter(region=province, period=confirmed).exists():
        return []
    return report_compile(user=None, province=province, period=confirmed)
