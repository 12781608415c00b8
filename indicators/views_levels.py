"""The measured service levels page (issue 14 §3): a region's application records per class and
stage, its children with their targets met or missed, its program's limits and targets, the
distribution of days with the limits drawn and the trend per class; the same as an .xlsx workbook
(``?format=xlsx``)."""

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
# The trend's drawing: the plot, and room left for the days, below for the periods, right for the names.
TREND_STEP, TREND_HEIGHT, TREND_LEFT, TREND_BOTTOM, TREND_RIGHT = 90, 160, 36, 24, 80
# Each line told apart by its dash and its name at its end as well as its colour (WCAG 1.4.1).
TREND_STYLES = {
    CustomerClass.RESIDENTIAL: ("#1b7f3b", "6 3"),
    CustomerClass.LOW_VOLTAGE: ("#7a5b00", "2 3"),
    CustomerClass.HIGH_VOLTAGE: ("#b00020", "8 3 2 3"),
    None: ("#0b5cad", ""),
}


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


@dataclass(frozen=True)
class TrendLine:
    """One class's (or all classes') average days from acceptance to connection across the periods."""

    label: str
    colour: str
    dash: str
    points: list  # [(x, y, period, average)], the periods with records of the class

    @property
    def polyline(self):
        return " ".join(f"{x},{y}" for x, y, _p, _a in self.points)


def _trend_chart(trend):
    """The trend's lines, each class's and all classes' (thickest, last, so on top), the highest
    average at the top of the plot and 0 at the bottom; the width and the period labels' x."""
    highest = max((p.elapsed.average or 0 for everyone in trend for p in [everyone, *everyone.class_points]), default=0)

    def y(average):
        return round(TREND_HEIGHT - float(average) * (TREND_HEIGHT - 10) / float(highest or 1), 1)

    def line(label, style, points):
        placed = [(TREND_LEFT + i * TREND_STEP, y(p.elapsed.average), p.period, p.elapsed.average) for i, p in points]
        return TrendLine(label, *style, placed)

    lines = [
        line(c.label, TREND_STYLES[c], [(i, e.classes[c]) for i, e in enumerate(trend) if c in e.classes])
        for c in CustomerClass
        if any(c in e.classes for e in trend)
    ]
    lines.append(line("合计", TREND_STYLES[None], list(enumerate(trend))))
    return {
        "lines": lines,
        "width": TREND_LEFT + max(len(trend) - 1, 0) * TREND_STEP + TREND_RIGHT,
        "height": TREND_HEIGHT + TREND_BOTTOM,
        "plot_bottom": TREND_HEIGHT,
        "highest": highest,
        "periods": [(TREND_LEFT + i * TREND_STEP, e.period) for i, e in enumerate(trend)],
        "rows": [row for everyone in trend for row in everyone.rows],
    }


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
            "trend": _trend_chart(levels.trend),
            "other_programs": others,
        },
    )
