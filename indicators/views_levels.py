"""The measured service levels page (issue 14 §3): a region's application records per class and
stage, its children, its program's limits and targets, the distribution of days with the limits
drawn and the trend; the same as an .xlsx workbook (``?format=xlsx``)."""

import io
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import render

from .applications.levels import HISTOGRAM_CAP, limits_program, service_levels
from .applications.levels_excel import service_levels_workbook
from .models import CustomerClass, Program
from .programs import programs_covering
from .views import _period_and_region

# The distribution's drawing, in SVG user units.
BAR_WIDTH, CHART_HEIGHT, LABEL_HEIGHT = 14, 120, 16


@dataclass(frozen=True)
class Chart:
    """A class's distribution as bars and the limits as lines, positioned for the SVG."""

    customer_class: CustomerClass
    width: int
    bars: list  # [(x, y, height, days, count)]
    limits: list  # [(x, limit, words naming the records it applies to)]


def _chart(customer_class, histogram):
    scale = CHART_HEIGHT / (histogram.tallest or 1)
    bars = []
    for days, count in histogram.buckets:
        height = round(count * scale)
        bars.append((days * BAR_WIDTH, LABEL_HEIGHT + CHART_HEIGHT - height, height, days, count))
    # a limit of L days falls between the bar of L and that of L + 1: what lies right of the line is over
    limits = [
        ((limit + 1) * BAR_WIDTH, limit, "；".join(dict.fromkeys(r.applies_label for r in rules))) for limit, rules in histogram.limits
    ]
    right = max([len(histogram.buckets) * BAR_WIDTH] + [x + BAR_WIDTH for x, _l, _r in limits])
    return Chart(customer_class, right, bars, limits)


def _trend_bars(trend):
    """[(period, TrendPoint of all classes, bar width in %)], the longest average at full width."""
    longest = max((everyone.elapsed.average or 0 for _p, _c, everyone in trend), default=0)
    return [(p, everyone, float(100 * (everyone.elapsed.average or 0) / longest) if longest else 0) for p, _c, everyone in trend]


@login_required
def service_levels_view(request, code, region_code):
    period, region = _period_and_region(request, code, region_code, {"county", "city", "province"})
    program = limits_program(region=region, period=period, code=request.GET.get("limits"))
    levels = service_levels(user=request.user, region=region, period=period, program=program)
    if request.GET.get("format") == "xlsx":
        name = f"{region.name}{period.label}用电报装服务水平.xlsx"
        return FileResponse(io.BytesIO(service_levels_workbook(levels)), as_attachment=True, filename=name)
    others = Program.objects.filter(pk__in=programs_covering(region), application_rules__isnull=False).exclude(pk=program.pk).distinct()
    return render(
        request,
        "indicators/service_levels.html",
        {
            "period": period,
            "region": region,
            "levels": levels,
            "stages": list(levels.overall.stages),
            "charts": [_chart(c, levels.histograms[c]) for c in CustomerClass if c in levels.histograms],
            "chart_height": LABEL_HEIGHT * 2 + CHART_HEIGHT,
            "bar_width": BAR_WIDTH - 2,
            "histogram_cap": HISTOGRAM_CAP,
            "trend": _trend_bars(levels.trend),
            "other_programs": others,
        },
    )
