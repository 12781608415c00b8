"""Demo ledgers: every province's own ledger adapted from the national one, with a few items broken
down to its cities and, below them, to every county (``seed_demo --scale national``).

The adaptation goes through ``ledger_adapt`` (the service a province official uses); the breakdown
is bulk-written (Assignments and their 分解 history rows, no notifications) because it stands for
work done before the portal existed. Deterministic and idempotent: a province that already has its
own ledger of the year adapted from the national one is left alone.
"""

import random
from collections import defaultdict
from datetime import date

from django.db import transaction
from django.utils import timezone

from accounts.models import Region, RegionLevel

from .models import Assignment, AssignmentStatus, Ledger, LedgerItem, ProgressKind, ProgressUpdate
from .services import ledger_adapt

NATIONAL_LEDGER = "national-2021"
CITY_ITEMS = (12, 15, 17, 29, 44)  # given to every city
COUNTY_ITEMS = (15, 29)  # and broken down by each city to every county
BATCH = 5000


def _assignment(item, region, parent, unit, lead, today, rng):
    if item.ongoing:
        milestone, status = None, AssignmentStatus.ONGOING
    else:
        milestone = date(today.year, rng.randint(1, 12), 28)
        status = rng.choice([AssignmentStatus.DONE, AssignmentStatus.IN_PROGRESS, AssignmentStatus.NOT_STARTED])
        if milestone < today and status != AssignmentStatus.DONE:
            status = AssignmentStatus.OVERDUE
    progress = (
        "已完成，佐证材料已上传。" if status == AssignmentStatus.DONE else ("正在推进。" if status != AssignmentStatus.NOT_STARTED else "")
    )
    return Assignment(
        item=item,
        region_id=region.pk,
        parent=parent,
        responsible_unit=unit,
        lead=lead,
        milestone=milestone,
        status=status,
        progress=progress,
        progress_on=today if progress else None,
    )


def _history(assignments):
    return [
        ProgressUpdate(
            assignment=a,
            kind=ProgressKind.ASSIGN,
            status_after=a.status,
            channel="system",
            note=f"分解至{a.responsible_unit}{'（牵头）' if a.lead else ''}",
        )
        for a in assignments
    ]


def demo_ledgers_create(*, user, today=None, province_codes=None):
    """Adapt the national ledger for every province (or ``province_codes``) for ``today``'s year and
    break a few items down. ``user`` adapts them (a superuser). Returns (ledgers, assignments) made.
    """
    today = today or timezone.localdate()
    source = Ledger.objects.get(code=NATIONAL_LEDGER)
    provinces = Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code")
    if province_codes:
        provinces = provinces.filter(code__in=province_codes)
    done = set(Ledger.objects.filter(source=source, year=today.year, region__in=provinces).values_list("region_id", flat=True))
    todo = [p for p in provinces if p.pk not in done]
    regions = defaultdict(list)  # province path → its cities and counties, in code order
    for region in (
        Region.objects.exclude(level=RegionLevel.PROVINCE).only("pk", "code", "name", "level", "parent_id", "path").order_by("code")
    ):
        regions[region.path[:7]].append(region)
    ledgers = assignments = 0
    for province in todo:
        with transaction.atomic():
            ledger = ledger_adapt(user=user, region=province, year=today.year, source=source)
            items = {i.number: i for i in LedgerItem.objects.filter(ledger=ledger, number__in=CITY_ITEMS)}
            below = regions[province.path]
            cities = [r for r in below if r.level == RegionLevel.CITY]
            made = []
            for city in cities:
                for number in CITY_ITEMS:
                    rng = random.Random(f"{city.code}-{number}")
                    made.append(_assignment(items[number], city, None, f"{city.name}发展改革委（能源局）", True, today, rng))
            Assignment.objects.bulk_create(made, batch_size=BATCH)
            parents = {(a.region_id, a.item.number): a for a in made}
            children = []
            for county in (r for r in below if r.level == RegionLevel.COUNTY):
                for number in COUNTY_ITEMS:
                    rng = random.Random(f"{county.code}-{number}")
                    children.append(
                        _assignment(items[number], county, parents[(county.parent_id, number)], f"{county.name}供电公司", False, today, rng)
                    )
            Assignment.objects.bulk_create(children, batch_size=BATCH)
            ProgressUpdate.objects.bulk_create(_history(made + children), batch_size=BATCH)
            ledgers += 1
            assignments += len(made) + len(children)
    return ledgers, assignments
