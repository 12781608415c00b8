from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts.models import Region, RegionLevel, Role
from accounts.scoping import Action
from indicators.models import Period

from . import selectors

PICTURE_ROLES = frozenset({Role.PROVINCE, Role.NATIONAL, Role.REGULATOR})

# The over-periods chart's canvas, in SVG user units; the plot sits inside the margins.
CHART_WIDTH, CHART_HEIGHT = 640, 260
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 48, 24, 16, 44


@login_required
def pictures(request):
    user = request.user
    if not (user.is_superuser or user.role in PICTURE_ROLES):
        return render(request, "reporting/forbidden.html", status=403)
    today = timezone.localdate()
    regions = Region.objects.restrict(user, Action.VIEW).filter(level__in=[RegionLevel.PROVINCE, RegionLevel.CITY])
    region = _chosen_region(regions, request.GET.get("region"))
    periods = list(Period.objects.order_by("ends"))
    period = _chosen_period(periods, request.GET.get("period"), today)
    province_path = region.path.split("/")[0] + "/"
    context = {
        "region": region,
        "period": period,
        "periods": periods,
        # Every province the user may view, and the cities of the one shown.
        "region_choices": regions.filter(Q(level=RegionLevel.PROVINCE) | Q(path__startswith=province_path)).order_by("path"),
        "today": today,
    }
    if period:
        context["heatmap"] = selectors.heatmap(period=period, region=region, today=today)
        context["cities"] = selectors.completion_by_city(period=period, region=region)
    context["chart"] = _line_chart(selectors.completion_over_periods(region=region))
    return render(request, "reporting/pictures.html", context)


def _chosen_region(regions, code):
    """The region asked for, or else the first province in view (a province official's own)."""
    if code:
        return get_object_or_404(regions, code=code)
    region = regions.filter(level=RegionLevel.PROVINCE).order_by("code").first()
    if region is None:
        raise Http404("没有可查看的省份。")
    return region


def _chosen_period(periods, code, today):
    """The period asked for, or else the latest one already begun (the first if none has)."""
    if code:
        for period in periods:
            if period.code == code:
                return period
        raise Http404("没有这个报告期。")
    begun = [period for period in periods if period.starts <= today]
    if begun:
        return begun[-1]
    return periods[0] if periods else None


def _line_chart(points):
    """Where each period's two percentages sit on the chart: periods evenly spaced left to right,
    0 % at the bottom of the plot and 100 % at its top."""
    plot_width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    step = plot_width / (len(points) - 1) if len(points) > 1 else 0

    def y(value):
        return round(CHART_TOP + plot_height * (100 - value) / 100, 1)

    for index, point in enumerate(points):
        point["x"] = round(CHART_LEFT + step * index if step else CHART_LEFT + plot_width / 2, 1)
        point["complete_y"], point["done_y"] = y(point["complete_percent"]), y(point["done_percent"])
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_WIDTH - CHART_RIGHT,
        "label_y": CHART_HEIGHT - CHART_BOTTOM + 20,
        "gridlines": [{"y": y(value), "label": value} for value in (0, 25, 50, 75, 100)],
        "points": points,
        "complete_line": " ".join(f"{p['x']},{p['complete_y']}" for p in points),
        "done_line": " ".join(f"{p['x']},{p['done_y']}" for p in points),
    }
