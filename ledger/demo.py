"""Demo ledgers: every province's own ledger adapted from the national one, with a few items broken
down to its cities and, below them, to every county (``seed_demo --scale national``); and
国网重庆市电力公司's own ledger given to its departments (``demo_company_ledger_create``).

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

from accounts.models import OrgUnit, OrgUnitKind, Region, RegionLevel
from accounts.services import DEMO_PASSWORD, demo_company_get, demo_user_write

from . import services
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


COMPANY_LEDGER = "cqpower-2021"  # 国网重庆市电力公司 渝电综〔2021〕5号 附件1, with its 责任部门
COMPANY_PROVINCE = "500000"
# The company's demo users: its head office and two of the departments the ledger names (not
# “demo_…”: those are the Sichuan demo's one user per role).
COMPANY_USERS = [("sgcc_cq", None), ("sgcc_cq_marketing", "营销部"), ("sgcc_cq_inspection", "巡察办")]


def demo_company_ledger_create(*, user):
    """国网重庆市电力公司 with the departments its 2021 activity ledger's 责任部门 names (created here
    where missing: no fixture holds a company's departments), its own ledger adapted from the document
    by ``user`` (a superuser), every item given to those departments through the services, the
    head office's and two departments' users, and a few reports, a return and a 督办 on them.

    Idempotent: an existing ledger of the company's year is left as it is. Returns the users'
    credentials as (username, password, role, where)."""
    province = Region.objects.get(code=COMPANY_PROVINCE)
    company = demo_company_get(province=province)
    source = Ledger.objects.get(code=COMPANY_LEDGER)
    for name in dict.fromkeys(n for item in source.items.order_by("number") for n in services.unit_names(item.responsible_units)):
        OrgUnit.objects.get_or_create(company=company, name=name, defaults={"kind": OrgUnitKind.DEPARTMENT})
    people = {}
    for username, unit in COMPANY_USERS:
        people[unit] = demo_user_write(
            username=username,
            role="supply_company",
            region=province,
            name=unit or "公司本部",
            organisation=f"{company.name}{unit or '本部'}",
            company=company,
            org_unit=company.units.get(name=unit) if unit else None,
        )
    credentials = [(u.username, DEMO_PASSWORD, f"供电企业·{unit or '本部'}", company.name) for unit, u in people.items()]
    if Ledger.objects.filter(source=source, region=province, year=source.year).exists():
        return credentials
    with transaction.atomic():
        ledger = ledger_adapt(
            user=user,
            region=province,
            year=source.year,
            source=source,
            name=f"{company.name}{source.year}年{source.name.removeprefix(f'{source.year}年')}",
        )
        services.unit_assignments_create(user=people[None], ledger=ledger, company=company)

        def part(number, unit):
            return Assignment.objects.get(item__ledger=ledger, item__number=number, org_unit__name=unit)

        marketing, inspection, head = people["营销部"], people["巡察办"], people[None]
        services.progress_report(
            user=marketing,
            assignment=part(1, "营销部"),
            status=AssignmentStatus.DONE,
            note="已完成专项清理，验收接入环节不再收取移表费等各类费用。",
        )
        services.progress_review(user=head, assignment=part(1, "营销部"), note="同意，请保持常态自查。")
        services.progress_report(
            user=inspection, assignment=part(3, "巡察办"), status=AssignmentStatus.DONE, note="“三指定”专项治理已完成，治理情况已汇总。"
        )
        services.progress_review(user=head, assignment=part(3, "巡察办"), note="请补充各单位自查自纠台账后再报。", send_back=True)
        services.progress_report(
            user=marketing, assignment=part(12, "营销部"), status=AssignmentStatus.IN_PROGRESS, note="用能服务班组组建方案已报公司审定。"
        )
        services.press(user=head, assignment=part(5, "营销部"), note="电子供用电合同推广已过节点时间，请说明进度。")
    return credentials
