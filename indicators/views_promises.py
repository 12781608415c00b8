"""完成承诺 (issue 8 §3): a region's promises of a period — a county's (or a province's own) chains
with their history, and a city's or province's counts per county with the slipped ones."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Region, RegionLevel
from accounts.scoping import Action

from .promises import Outcome, chains, outcome_counts
from .views import _period_and_region, _reviewer


def _today():
    """The day the outcomes are judged on (the tests fix it)."""
    return timezone.localdate()


def _tally(rows):
    return {outcome: sum(row[outcome] for row in rows) for outcome in Outcome.values}


@login_required
def promises_view(request, code, region_code):
    """A county: everyone who may view it. A city or province: the reviewers (as the review pages),
    each seeing the counties in their own scope. A fixed number of queries whatever the number of counties."""
    period, region = _period_and_region(request, code, region_code, {"county", "city", "province"})
    if region.level != RegionLevel.COUNTY:
        _reviewer(request)
    today = _today()
    scope = Region.objects.restrict(request.user, Action.VIEW).filter(path__startswith=region.path)
    # The region's own chains with who gave each promise and when; its counties' only to be counted.
    own = chains(regions=[region.pk], period=period, today=today, people=True) if region.level != RegionLevel.CITY else []
    chain_list = chains(regions=scope, period=period, today=today) if region.level != RegionLevel.COUNTY else own
    context = {
        "period": period,
        "region": region,
        "today": today,
        "own": own,
        "own_counts": outcome_counts(own)[region.pk],
    }
    if region.level != RegionLevel.COUNTY:
        counts = outcome_counts(chain_list)
        counties = list(scope.filter(level=RegionLevel.COUNTY).select_related("parent").order_by("path"))
        names = {county.pk: county for county in counties}
        groups = []
        for county in counties:
            if not groups or groups[-1]["city"] != county.parent:
                groups.append({"city": county.parent, "rows": []})
            groups[-1]["rows"].append({"county": county, **counts[county.pk]})
        for group in groups:
            group["totals"] = _tally(group["rows"])
        slipped = sorted(
            (
                {"county": names[chain.region_id], "chain": chain}
                for chain in chain_list
                if chain.outcome == Outcome.SLIPPED and chain.region_id in names
            ),
            key=lambda item: (item["county"].path, item["chain"].indicator.number),
        )
        context.update({"groups": groups, "totals": _tally([row for group in groups for row in group["rows"]])})
        if region.level == RegionLevel.PROVINCE:
            # A province's slipped promises run to thousands: one line per county listing the
            # indicators, the details on the county's page (the full list was 700 KiB; issue 17 §9).
            by_county = {}
            for item in slipped:
                by_county.setdefault(item["county"], []).append(item["chain"].indicator.label)
            context["slipped_counties"] = [{"county": county, "labels": "、".join(labels)} for county, labels in by_county.items()]
        else:
            context["slipped"] = slipped
    return render(request, "indicators/promises.html", context)
