"""The scorecard's inputs read from the database (issue 14 §4): per county and period, the sums of
the application records (环节数, working days, zero investment, investment) and the reliability
figures. Four queries whatever the number of counties: the previous period, the counties, the
records grouped by county and period, the reliability figures."""

from django.db.models import Count, Q, Sum

from accounts.models import Region, RegionLevel
from accounts.scoping import Action
from indicators.models import Application, Period

from .models import Reliability
from .scorecard import Inputs, Row, ranked, score


def previous_period(period):
    """The program's period that ended last before ``period``, or None."""
    return Period.objects.filter(program_id=period.program_id, ends__lt=period.ends).order_by("-ends").first()


def _inputs(user, region, periods):
    """{(county pk, period pk): Inputs} for the counties under ``region`` that ``user`` may view."""
    records = (
        Application.objects.restrict(user, Action.VIEW)
        .filter(region__path__startswith=region.path, period__in=periods)
        .values("region_id", "period_id")
        .order_by()
        .annotate(
            n=Count("pk"),
            stages=Sum("stage_count"),
            days=Sum("days_elapsed"),
            zero=Count("pk", filter=Q(investment=0)),
            investment=Sum("investment"),
        )
    )
    found = {
        (r["region_id"], r["period_id"]): {
            "applications": r["n"],
            "stages": r["stages"],
            "days": r["days"],
            "zero_investment": r["zero"],
            "investment": r["investment"],
        }
        for r in records
    }
    spans = {(p.year, p.kind): p.pk for p in periods}
    figures = (
        Reliability.objects.restrict(user, Action.VIEW)
        .filter(region__path__startswith=region.path)
        .filter(Q(*[Q(year=year, kind=kind) for year, kind in spans], _connector=Q.OR))
        .values_list("region_id", "year", "kind", "saidi", "saifi")
    )
    for region_id, year, kind, saidi, saifi in figures:
        found.setdefault((region_id, spans[(year, kind)]), {}).update(saidi=saidi, saifi=saifi)
    return {key: Inputs(**values) for key, values in found.items()}


def scorecard_rows(*, user, region, period):
    """The ranked rows of the counties under ``region`` (a province or city) in ``period``, with the
    previous period's scores and ranks; and that previous period (None for the program's first)."""
    previous = previous_period(period)
    periods = [period] + ([previous] if previous else [])
    counties = list(
        Region.objects.restrict(user, Action.VIEW)
        .filter(path__startswith=region.path, level=RegionLevel.COUNTY)
        .select_related("parent")
        .order_by("code")
    )
    inputs = _inputs(user, region, periods)
    empty = Inputs()
    rows = [
        Row(
            region=county,
            current=score(inputs.get((county.pk, period.pk), empty)),
            previous=score(inputs.get((county.pk, previous.pk), empty)) if previous else None,
        )
        for county in counties
    ]
    return ranked(rows, city_of=lambda row: row.region.parent_id, whole_province=region.level == RegionLevel.PROVINCE), previous
