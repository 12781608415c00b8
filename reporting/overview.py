"""The national overview (issue 17 §6): every province the user may view at once — provinces ×
county indicators as the share of counties done, completion, and how far submission and sign-off
have got — each province a link down to its heat map.

``provinces`` is a queryset the caller has already restricted (``Region.objects.restrict``): a
national user's every province, a regulator's own. Six queries however many provinces and
counties; the counting is done in the database per county (and per province for the submissions
and cities), the counties' figures summed per province here; every share by
``utilities.formatting``.
"""

from collections import Counter, defaultdict

from django.db.models import Count
from django.db.models.functions import Substr

from accounts.models import Region, RegionLevel
from indicators.models import Checkmark, Submission, SubmissionState
from utilities.formatting import percent, percent_text

from .selectors import DONE, CommaList, county_indicators
from .tables import group_spans

# A region's province is the first code of its path ("510000/510100/510104/").
PROVINCE_CODE = Substr("path", 1, 6)

# The county states counted per province, in the order of the flow; the rest are 填报中.
COUNTY_STATES = (SubmissionState.SUBMITTED, SubmissionState.RETURNED, SubmissionState.APPROVED)

# A share's band, for the cell colour (its text is always printed too): at least this many per cent.
BANDS = ((100, "all"), (75, "most"), (50, "half"), (25, "some"), (0, "few"))


def band(value):
    """The colour band of a share (a Decimal per cent, or None when there is nothing to share)."""
    if value is None:
        return "none"
    return next(name for floor, name in BANDS if value >= floor)


def _share(part, whole):
    value = percent(part, whole)
    return {"part": part, "whole": whole, "percent": value, "text": percent_text(part, whole), "band": band(value)}


def overview(*, provinces, period):
    """One row per province (code order): its counties; per county indicator of ``period``'s set the
    share of its counties done; its complete counties; its counties per submission state, cities
    accepted and whether the province confirmed. Returns ``{"indicators": …, "groups": …, "rows": …,
    "totals": …}``; ``totals`` is the same for all the provinces together."""
    province_list = list(provinces.filter(level=RegionLevel.PROVINCE).order_by("code").values("id", "code", "name"))
    indicators = list(county_indicators(period=period).values("id", "label", "group", "content"))
    codes = [p["code"] for p in province_list]
    counties = Region.objects.filter(level=RegionLevel.COUNTY).annotate(province=PROVINCE_CODE).filter(province__in=codes)

    # Each county's done indicators, grouped in the database per county and summed per province
    # here: reading the period's rows without joining each to its region is the one pass over the
    # whole country SQLite does quickly (a join per row, or a probe per county, doubled the page).
    province_of = dict(counties.values_list("pk", "province"))
    column = {indicator["id"]: n for n, indicator in enumerate(indicators)}
    county_counts = Counter(province_of.values())
    done = defaultdict(lambda: [0] * len(indicators))
    complete = Counter()
    for region_id, ticked in (
        Checkmark.objects.filter(DONE, period=period, indicator__in=list(column))
        .order_by()
        .values_list("region_id")
        .annotate(ticked=CommaList("indicator_id"))
    ):
        code = province_of.get(region_id)
        if code is None:  # a province's own indicators, or a county out of view
            continue
        numbers = ticked.split(",")
        for indicator_id in numbers:
            done[code][column[int(indicator_id)]] += 1
        complete[code] += len(numbers) >= len(indicators)
    # Submissions per province, level and state (a region without one is 填报中).
    states = defaultdict(int)
    for code, level, state, n in (
        Submission.objects.filter(period=period)
        .annotate(province=Substr("region__path", 1, 6))
        .filter(province__in=codes)
        .order_by()
        .values_list("province", "region__level", "state")
        .annotate(n=Count("pk"))
    ):
        states[code, level, state] = n
    cities = dict(
        Region.objects.filter(level=RegionLevel.CITY)
        .annotate(province=PROVINCE_CODE)
        .filter(province__in=codes)
        .order_by()
        .values_list("province")
        .annotate(n=Count("pk"))
    )

    rows = []
    for province in province_list:
        code = province["code"]
        rows.append(
            _row(
                province,
                county_count=county_counts[code],
                complete=complete[code],
                done=done[code],
                states={s: states[code, RegionLevel.COUNTY, s] for s in COUNTY_STATES},
                city_count=cities.get(code, 0),
                accepted=states[code, RegionLevel.CITY, SubmissionState.ACCEPTED],
                confirmed=bool(states[code, RegionLevel.PROVINCE, SubmissionState.CONFIRMED]),
            )
        )
    totals = _row(
        {"id": None, "code": "", "name": "合计"},
        county_count=sum(r["county_count"] for r in rows),
        complete=sum(r["complete"]["part"] for r in rows),
        done=[sum(r["cells"][n]["part"] for r in rows) for n in range(len(indicators))],
        states={s: sum(r["states"][s]["part"] for r in rows) for s in COUNTY_STATES},
        city_count=sum(r["city_count"] for r in rows),
        accepted=sum(r["accepted"]["part"] for r in rows),
        confirmed=sum(r["confirmed"] for r in rows),
    )
    return {"indicators": indicators, "groups": group_spans(i["group"] for i in indicators), "rows": rows, "totals": totals}


def _row(province, *, county_count, complete, done, states, city_count, accepted, confirmed):
    # Submitted counts every county past 填报中 and not sent back: 已上报 and 市级已审核.
    submitted = states[SubmissionState.SUBMITTED] + states[SubmissionState.APPROVED]
    return {
        **province,
        "county_count": county_count,
        "city_count": city_count,
        "complete": _share(complete, county_count),
        "cells": [_share(n, county_count) for n in done],
        "states": {s: _share(n, county_count) for s, n in states.items()},
        "submitted": _share(submitted, county_count),
        "approved": _share(states[SubmissionState.APPROVED], county_count),
        "returned": states[SubmissionState.RETURNED],
        "accepted": _share(accepted, city_count),
        "confirmed": confirmed,
    }
