"""The scorecard's inputs read from the database (issue 14 §4): per region and period, the sums of
the application records (环节数, working days, zero investment, investment) and the reliability
figures. Four queries whatever the number of counties: the previous period, the cities and
counties, the records grouped by county and period, the reliability figures. A city's and the
province's sums are their counties' groups added up (exact, so no second scan)."""

from collections import defaultdict

from django.db.models import Count, Q, Sum

from accounts.models import Region, RegionLevel
from accounts.scoping import Action
from indicators.applications.levels import elapsed_aggregates, elapsed_spread
from indicators.models import Application, Period

from .models import Reliability
from .scorecard import Inputs, Row, Scorecard, pooled, ranked, score


def previous_period(period):
    """The program's period that ended last before ``period``, or None."""
    return Period.objects.filter(program_id=period.program_id, ends__lt=period.ends).order_by("-ends").first()


def _up(regions, pk):
    """``pk`` and its ancestors among ``regions`` (pk → Region), nearest first."""
    while pk in regions:
        yield pk
        pk = regions[pk].parent_id


def _inputs(user, region, regions, periods):
    """{(region pk, period pk): Inputs} for ``regions`` (pk → Region: ``region`` and the cities and
    counties under it that ``user`` may view)."""
    records = (
        Application.objects.restrict(user, Action.VIEW)
        .filter(region__path__startswith=region.path, period__in=periods)
        .values("region_id", "period_id")
        .order_by()
        .annotate(**elapsed_aggregates(), stages=Sum("stage_count"), zero=Count("pk", filter=Q(investment=0)), investment=Sum("investment"))
    )
    parts = defaultdict(list)  # (region pk, period pk) → the Inputs of the record groups at or under it
    for r in records:
        part = Inputs(
            applications=r["n"], stages=r["stages"], elapsed=elapsed_spread(r), zero_investment=r["zero"], investment=r["investment"]
        )
        for pk in _up(regions, r["region_id"]):
            parts[(pk, r["period_id"])].append(part)
    spans = {(p.year, p.kind): p.pk for p in periods}
    figures = (
        Reliability.objects.restrict(user, Action.VIEW)
        .filter(region__path__startswith=region.path)
        .filter(Q(*[Q(year=year, kind=kind) for year, kind in spans], _connector=Q.OR))
        .values_list("region_id", "year", "kind", "saidi", "saifi")
    )
    own, counties = {}, defaultdict(list)  # a region's own figures; the counties' figures under a city or province
    for region_id, year, kind, saidi, saifi in figures:
        key = (region_id, spans[(year, kind)])
        own[key] = (saidi, saifi)
        if region_id in regions and regions[region_id].level == RegionLevel.COUNTY:
            for pk in _up(regions, regions[region_id].parent_id):
                counties[(pk, key[1])].append((saidi, saifi))
    return {
        (pk, period.pk): pooled(parts[(pk, period.pk)], own=own.get((pk, period.pk), (None, None)), counties=counties[(pk, period.pk)])
        for pk in regions
        for period in periods
    }


def scorecard_get(*, user, region, period):
    """The Scorecard of ``region`` (a province or city) in ``period``: its counties ranked within
    their city (and the province), its cities ranked within the province (a city's page: the city
    unranked), the province's line; each with the previous period's scores and ranks."""
    previous = previous_period(period)
    periods = [period] + ([previous] if previous else [])
    below = (
        Region.objects.restrict(user, Action.VIEW)
        .filter(path__startswith=region.path, level__in=(RegionLevel.CITY, RegionLevel.COUNTY))
        .select_related("parent")
        .order_by("code")
    )
    regions = {r.pk: r for r in below} | {region.pk: region}
    inputs = _inputs(user, region, regions, periods)

    def row(area):
        return Row(
            region=area,
            current=score(inputs[(area.pk, period.pk)]),
            previous=score(inputs[(area.pk, previous.pk)]) if previous else None,
        )

    whole_province = region.level == RegionLevel.PROVINCE
    by_level = defaultdict(list)
    for area in regions.values():
        by_level[area.level].append(row(area))
    return Scorecard(
        region=region,
        period=period,
        counties=ranked(by_level[RegionLevel.COUNTY], city_of=lambda r: r.region.parent_id, whole_province=whole_province),
        cities=ranked(by_level[RegionLevel.CITY], whole_province=whole_province),
        province=by_level[RegionLevel.PROVINCE][0] if whole_province else None,
        previous=previous,
    )
