"""Reads behind the completion pictures (and, later, the statistics tables).

Every function takes a ``region`` the caller has already resolved through
``Region.objects.restrict(user, "view")``: the counties read are that region's subtree, which the
roles allowed to see these figures may view in full. Each runs a fixed number of queries however
many counties the region holds; the counting happens in the database.

A county cell counts as done when its status is done (``DONE``), with or without its done month:
the statistics table prints it “√” (``indicators.cells.cell_text``) and counts it, so the pictures do.
Shares are ``utilities.formatting.percent`` / ``percent_text``, as the tables print them.
"""

from collections import defaultdict

from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from accounts.models import Region, RegionLevel
from indicators.cells import cell_text
from indicators.models import AuditEntry, Checkmark, CheckmarkStatus, Indicator, IndicatorLevel, Period, Program, ProgramTable
from indicators.promises import Outcome, chain_outcome, promise_months
from utilities.formatting import percent, percent_text

from .changes import BLANK, Mark, PeriodRef
from .models import Benefit
from .tables import BENEFIT_MEASURES, CityInput, Column, CountyInput, group_spans

DONE = Q(status=CheckmarkStatus.DONE)  # as 附件2 counts its “√”: the done month is not printed there

# Who reads the pictures and the statistics tables, on the pages and through the API, is
# accounts.policy's ``reporting.read_reports``; this is what the others are told.
REPORT_READERS_ONLY = "完成情况图示和统计报表仅向省级能源主管部门、国家能源局及其派出机构开放。"


class CellState:
    """How a heat-map cell stands; the values are also the cells' CSS classes."""

    DONE = "done"
    PENDING = "pending"  # not done, the expected month not yet passed
    OVERDUE = "overdue"  # not done, the expected month before the current one
    MISSING = "missing"  # no row, a blank status, or not done without its expected month


class RowCount(Subquery):
    """The number of rows of a (usually correlated) queryset, as one SQL expression."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()

    def __init__(self, queryset):
        super().__init__(queryset.order_by().values("pk"))


class CommaList(Aggregate):
    """A group's values joined by commas, in no particular order."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, function="STRING_AGG", template="%(function)s((%(expressions)s)::text, ',')", **extra_context
        )


def _completion(*, county_count, complete_count, done_cells, indicator_count):
    """Counties complete and cells done, with their shares of the counties and of the cells: each
    share as a number (``*_percent``, a Decimal or None when there is nothing to share, for the bars
    and the chart) and as the text 附件2 prints (``*_percent_text``: “6.3%”, or “/”)."""
    cell_count = county_count * indicator_count
    return {
        "county_count": county_count,
        "complete_count": complete_count,
        "complete_percent": percent(complete_count, county_count),
        "complete_percent_text": percent_text(complete_count, county_count),
        "done_cells": done_cells,
        "cell_count": cell_count,
        "done_percent": percent(done_cells, cell_count),
        "done_percent_text": percent_text(done_cells, cell_count),
    }


def counties_of(*, region):
    """The counties in ``region``'s subtree (the region itself if it is a county)."""
    return Region.objects.filter(level=RegionLevel.COUNTY, path__startswith=region.path)


def county_checkmarks():
    """Check-marks of county indicators that belong to their period's own indicator set."""
    return Checkmark.objects.filter(indicator__level=IndicatorLevel.COUNTY, indicator__indicator_set=F("period__indicator_set"))


def county_indicators(*, period):
    """The county indicators of ``period``'s set, in number order."""
    return Indicator.objects.filter(indicator_set=period.indicator_set_id, level=IndicatorLevel.COUNTY).order_by("number")


def _done_count(period):
    """Per county (the outer row), its done county indicators in ``period`` (an object or OuterRef)."""
    return RowCount(county_checkmarks().filter(DONE, region=OuterRef("pk"), period=period))


def county_done_counts(*, period, region):
    """The counties of ``region`` in code order, each annotated ``done_count``: the number of county
    indicators of ``period``'s set it has done. Counties without any check-mark count 0.

    A queryset evaluated in one query; callers may add ``select_related`` or ``values``.
    """
    return counties_of(region=region).annotate(done_count=_done_count(period)).order_by("path")


def heatmap(*, period, region, today, slips=True):
    """Counties × county indicators of ``period`` in ``region``, with each cell's state.

    ``today`` fixes the current month: a not-done cell whose expected month is before it is overdue.
    Returns the indicators, their group headings (runs of consecutive indicators sharing a group,
    with their spans) and the cities in code order, each with its counties and their cells in
    indicator order. A cell whose promise chain has slipped (indicators.promises: moved later,
    overdue or done late) also has ``"slipped": True``. Four queries: the promises are the fourth,
    read only with ``slips`` (the page shows that layer on request).
    """
    indicators = list(county_indicators(period=period).values("id", "label", "group", "content"))
    groups = group_spans(indicator["group"] for indicator in indicators)

    this_month = today.replace(day=1)
    state = Case(
        When(DONE, then=Value(CellState.DONE)),
        When(status=CheckmarkStatus.NOT_DONE, expected_month__lt=this_month, then=Value(CellState.OVERDUE)),
        When(status=CheckmarkStatus.NOT_DONE, expected_month__isnull=False, then=Value(CellState.PENDING)),
        default=Value(CellState.MISSING),
    )
    rows = (
        county_checkmarks()
        .filter(period=period, region__in=counties_of(region=region))
        .annotate(state=state)
        .values_list("region_id", "indicator_id", "state", "done_month", "expected_month")
    )
    cells = {
        (county_id, indicator_id): {"state": cell_state, "month": done_month or expected_month}
        for county_id, indicator_id, cell_state, done_month, expected_month in rows
    }
    missing = {"state": CellState.MISSING, "month": None}
    for key, months in promise_months(regions=counties_of(region=region), period=period).items() if slips else ():
        cell = cells.get(key, missing)
        done_month = cell["month"] if cell["state"] == CellState.DONE else None
        if chain_outcome(months, done_month=done_month, today=today).outcome == Outcome.SLIPPED:
            cells[key] = {**cell, "slipped": True}

    cities = []
    counties = county_done_counts(period=period, region=region).values("id", "code", "name", "parent__name", "done_count")
    for county in counties:
        if not cities or cities[-1]["name"] != county["parent__name"]:
            cities.append({"name": county["parent__name"], "counties": []})
        county["cells"] = [cells.get((county["id"], indicator["id"]), missing) for indicator in indicators]
        cities[-1]["counties"].append(county)
    return {"indicators": indicators, "groups": groups, "cities": cities}


def completion_by_city(*, period, region):
    """Per city of ``region`` (code order): its counties, how many completed every county indicator
    of ``period``, how many county × indicator cells are done, and both shares. Two queries.
    """
    indicator_count = county_indicators(period=period).count()
    cities = (
        county_done_counts(period=period, region=region)
        .order_by("parent__code")
        .values("parent__code", "parent__name")
        .annotate(
            county_count=Count("pk"),
            complete_count=Count("pk", filter=Q(done_count__gte=indicator_count)),
            done_cells=Sum("done_count"),
        )
    )
    return [
        {
            "code": city["parent__code"],
            "name": city["parent__name"],
            **_completion(
                county_count=city["county_count"],
                complete_count=city["complete_count"],
                done_cells=city["done_cells"],
                indicator_count=indicator_count,
            ),
        }
        for city in cities
    ]


def completion_over_periods(*, region, program=None):
    """Per Period of ``program`` (a code; None: the national one) in order: the share of ``region``'s
    counties that completed every county indicator of the period's set, and the share of county ×
    indicator cells done. Three queries: the counties, the periods, and the done check-marks counted
    per period and county (grouped once, not a correlated count per period and county, which on
    PostgreSQL grew to 0.2 s over eight periods of a large province).
    """
    counties = counties_of(region=region)
    county_count = counties.count()
    periods = list(
        Period.objects.filter(program__code=program or Program.NATIONAL)
        .order_by("ends")
        .annotate(indicator_count=RowCount(Indicator.objects.filter(indicator_set=OuterRef("indicator_set"), level=IndicatorLevel.COUNTY)))
    )
    done = defaultdict(list)  # period pk → each county's number of done county indicators (counties with any)
    per_county = (
        county_checkmarks()
        .filter(DONE, period__in=periods, region__in=counties)
        .values_list("period_id", "region_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for period_id, _region_id, n in per_county:
        done[period_id].append(n)
    return [
        {
            "code": period.code,
            "label": period.label,
            "year": period.year,
            "kind": period.get_kind_display(),
            **_completion(
                county_count=county_count,
                complete_count=sum(n >= period.indicator_count for n in done[period.pk]),
                done_cells=sum(done[period.pk]),
                indicator_count=period.indicator_count,
            ),
        }
        for period in periods
    ]


def table_columns(*, period):
    """The 38 (or a set's own) indicators as table columns, in number order. One query."""
    return [
        Column(i.number, i.label, i.group, i.level)
        for i in Indicator.objects.filter(indicator_set=period.indicator_set_id).order_by("number")
    ]


def attachment2_input(*, province, period):
    """What 附件2 is built from: columns, the province's starred values, its cities and counties
    with their cells. Three queries, whatever the number of counties."""
    # Named rows rather than model instances: a national compile reads the indicators once per province.
    indicators = {
        i.pk: i
        for i in Indicator.objects.filter(indicator_set=period.indicator_set_id)
        .order_by("number")
        .values_list("pk", "number", "label", "group", "level", "encouraging", named=True)
    }
    columns = [Column(i.number, i.label, i.group, i.level) for i in indicators.values()]
    regions = list(
        Region.objects.filter(path__startswith=province.path)
        .exclude(pk=province.pk)
        .order_by("path")
        .values_list("pk", "code", "name", "level")
    )
    cells = defaultdict(dict)
    # Driven from the province's regions (a subquery), so each region's rows come straight from the
    # (region, period, indicator) index instead of a scan of the whole period's check-marks.
    subtree = Region.objects.filter(path__startswith=province.path).values("pk")
    # One row per region and cell state, its indicators comma-joined, not one row per cell: some 4,000
    # rows for the whole country instead of 90,000, whose fetching (and dates parsed row by row) was
    # most of a national compile. The set is checked by a join: a list of its indicator ids made
    # SQLite seek once per indicator and region.
    # The cell text needs no done month (indicators.cells.cell_text): it is not read.
    marks = (
        Checkmark.objects.filter(period=period, region__in=subtree, indicator__indicator_set=period.indicator_set_id)
        .values_list("region_id", "status", "expected_month")
        .annotate(indicator_ids=CommaList("indicator_id"))
        .order_by()
    )
    by_state = {}  # (status, expected month) → {indicator id as text: (number, cell text)}
    for region_id, status, expected_month, indicator_ids in marks:
        texts = by_state.get((status, expected_month))
        if texts is None:
            texts = by_state[status, expected_month] = {
                str(pk): (i.number, cell_text(status=status, expected_month=expected_month, level=i.level, encouraging=i.encouraging))
                for pk, i in indicators.items()
            }
        region_cells = cells[region_id]
        for pk in indicator_ids.split(","):
            number, text = texts[pk]
            region_cells[number] = text
    cities = []
    for pk, code, name, level in regions:  # path order: each city, then its counties
        if level == RegionLevel.CITY:
            cities.append(CityInput(code, name, []))
        else:
            cities[-1].counties.append(CountyInput(code, name, cells.get(pk, {})))
    return columns, cells.get(province.pk, {}), cities


def _benefits_of(*, province, period):
    """The Benefit rows of a province table: the period's halves (H1: the first; the year: both).

    Each row is one company's figure for one region of its service area, which is of one level
    (reporting.services.benefits_set), so summing the rows counts every figure exactly once, and
    two companies serving one county both count.
    """
    halves = [1] if period.kind == "half" else [1, 2]
    return Benefit.objects.filter(region__path__startswith=province.path, year=period.year, half__in=halves)


def attachment3_totals(*, province, period):
    """附件3's figures: the province's Benefit rows of the period's halves summed per category. One query."""
    sums = (
        _benefits_of(province=province, period=period)
        .values("category")
        .annotate(**{m: Sum(m) for m, _label, _places in BENEFIT_MEASURES})
        .order_by()
    )
    return {(measure, row["category"]): row[measure] or 0 for row in sums for measure, _l, _p in BENEFIT_MEASURES}


def attachment3_breakdown(*, province, period):
    """附件3 by company and city: ``[(company name, city name, totals)]`` with ``totals`` as
    ``attachment3_totals`` has them, ordered by company code and city code. A county's figures go to
    its city; a province-level company's figures stand under the province's name. One query."""
    city = {
        f"city_{part}": Case(
            When(region__level=RegionLevel.COUNTY, then=F(f"region__parent__{part}")),
            default=F(f"region__{part}"),
            output_field=CharField(),
        )
        for part in ("code", "name")
    }
    sums = (
        _benefits_of(province=province, period=period)
        .annotate(**city)
        .values("company__code", "company__name", "city_code", "city_name", "category")
        .annotate(**{m: Sum(m) for m, _label, _places in BENEFIT_MEASURES})
        .order_by("company__code", "city_code", "category")
    )
    blocks = {}
    for row in sums:
        key = (row["company__code"], row["city_code"])
        _name, _city, totals = blocks.setdefault(key, (row["company__name"], row["city_name"], {}))
        for measure, _label, _places in BENEFIT_MEASURES:
            totals[(measure, row["category"])] = row[measure] or 0
    return list(blocks.values())


def changes_input(*, province, before, after):
    """What ``changes.build_changes`` compares: the indicators, the province's cities and counties,
    both periods' check-marks of the province and its counties (as ``changes.Mark``) and both
    periods' 附件3 totals. Five queries, whatever the number of counties.

    Both periods use the same indicator set (``services.changes_periods`` checks it).
    """
    indicators = {i.pk: i for i in Indicator.objects.filter(indicator_set=after.indicator_set_id)}
    columns = [Column(i.number, i.label, i.group, i.level) for i in sorted(indicators.values(), key=lambda i: i.number)]
    codes, cities = {province.pk: province.code}, []
    for pk, code, name, level in (
        Region.objects.filter(path__startswith=province.path)
        .exclude(pk=province.pk)
        .order_by("path")
        .values_list("pk", "code", "name", "level")
    ):  # path order: each city, then its counties
        codes[pk] = code
        if level == RegionLevel.CITY:
            cities.append((code, name, []))
        else:
            cities[-1][2].append((code, name))
    marks = {before.pk: defaultdict(dict), after.pk: defaultdict(dict)}
    rows = Checkmark.objects.filter(
        period__in=[before.pk, after.pk],
        indicator__in=indicators,
        region__in=Region.objects.filter(path__startswith=province.path).values("pk"),
    ).values_list("period_id", "region_id", "indicator_id", "status", "done_month", "expected_month")
    for period_id, region_id, indicator_id, status, done_month, expected_month in rows:
        indicator = indicators[indicator_id]
        text = cell_text(status=status, expected_month=expected_month, level=indicator.level, encouraging=indicator.encouraging)
        month = done_month if status == CheckmarkStatus.DONE else expected_month
        marks[period_id][codes[region_id]][indicator.number] = Mark(status if text else BLANK, month, text)
    return {
        "province": (province.code, province.name),
        "before": PeriodRef(before.code, before.label),
        "after": PeriodRef(after.code, after.label),
        "columns": columns,
        "cities": cities,
        "before_marks": marks[before.pk],
        "after_marks": marks[after.pk],
        "before_benefits": attachment3_totals(province=province, period=before),
        "after_benefits": attachment3_totals(province=province, period=after),
    }


def national_input(*, period):
    """Per province: counties, counties complete and counties done per county indicator. Four queries."""
    indicator_count = county_indicators(period=period).count()
    # Each county's done count from one grouped pass over the period's check-marks (a correlated
    # subquery per county cost several times as much on PostgreSQL), then summed per province here.
    done_counts = dict(county_checkmarks().filter(DONE, period=period).values_list("region_id").annotate(n=Count("pk")).order_by())
    provinces = []
    counties = (
        Region.objects.filter(level=RegionLevel.COUNTY)
        .order_by("parent__parent__code", "code")
        .values_list("pk", "parent__parent__code", "parent__parent__name")
    )
    for pk, code, name in counties:
        if not provinces or provinces[-1]["parent__parent__code"] != code:
            provinces.append({"parent__parent__code": code, "parent__parent__name": name, "counties": 0, "complete": 0})
        provinces[-1]["counties"] += 1
        provinces[-1]["complete"] += done_counts.get(pk, 0) >= indicator_count
    done = defaultdict(dict)
    per_indicator = (
        county_checkmarks()
        .filter(DONE, period=period)
        .values_list("region__parent__parent__code", "indicator__number")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for code, number, n in per_indicator:
        done[code][number] = n
    return [
        (p["parent__parent__code"], p["parent__parent__name"], p["counties"], p["complete"], done[p["parent__parent__code"]])
        for p in provinces
    ]


def data_state(*, region, period):
    """An identifier of the data a table was compiled from: it changes with every recorded change."""
    audit = AuditEntry.objects.filter(period=period)
    benefits = Benefit.objects.filter(year=period.year)
    if region is not None:
        audit = audit.filter(region__path__startswith=region.path)
        benefits = benefits.filter(region__path__startswith=region.path)
    a = audit.aggregate(last=Max("pk"), n=Count("pk"), at=Max("at"))
    b = benefits.aggregate(last=Max("updated_at"))

    def when(moment):
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")

    # In officials' words; the record number keeps two states with the same count apart.
    records = f"本期填报与审核记录 {a['n']} 条（最近一条 #{a['last']}，{when(a['at'])}）" if a["n"] else "本期尚无填报与审核记录"
    if ProgramTable.ATTACHMENT3 not in period.program.tables:  # only the national program's tables use the 附件3 figures
        return records
    figures = f"服务效益最近更新于 {when(b['last'])}" if b["last"] else "服务效益尚未填报"
    return f"{records}；{figures}"
