"""The Getting-Electricity scorecard page, its workbook, and the SAIDI/SAIFI entry (issue 14 §4)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import Region, RegionLevel
from accounts.scoping import Action
from indicators.selectors import current_period, period_get

from . import reliability
from .models import Reliability
from .scorecard import COMPONENTS, FRONTIERS, HEADERS, row_cells, workbook
from .scorecard_inputs import scorecard_get

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RANKED_LEVELS = (RegionLevel.PROVINCE, RegionLevel.CITY)
CITY_NOTE = "按所辖各县报装记录合计计算；供电可靠性用本市填报的数字，未填报时用所辖各县数字的简单平均。"
AREAS_NOTE = "按所辖各县报装记录合计计算，各地市在全省内排名；供电可靠性用该地市（省）填报的数字，未填报时用所辖各县数字的简单平均。"


def _region(request, permission, levels):
    """The region named by ``?region=`` (default: the user's own, or the first province in view),
    of one of ``levels`` and allowed by ``permission``."""
    user, code = request.user, request.GET.get("region")
    regions = Region.objects.restrict(user, Action.VIEW).filter(level__in=levels)
    region = regions.filter(code=code).first() if code else (user.region if user.region_id else regions.order_by("code").first())
    if region is None or region.level not in levels:
        raise Http404("没有该区域，或该区域不在您的管辖范围内。")
    if not user.has_perm(permission, region):
        raise PermissionDenied("获得电力评分只供省级、地市级能源主管部门及国家层面查看。")
    return region


def _period(request):
    """The period asked for, else the latest one opened of the program (a link from the menu)."""
    code, program = request.GET.get("period", ""), request.GET.get("program")
    latest = None if code else current_period(program)
    return latest or period_get(code=code, program=program)


@login_required
def scorecard(request):
    """A province's or city's counties ranked by the Getting-Electricity score, with each component;
    above them the province and its cities (a city: itself), scored on their counties' records."""
    region, period = _region(request, "reporting.view_scorecard", RANKED_LEVELS), _period(request)
    card = scorecard_get(user=request.user, region=region, period=period)
    whole_province = region.level == RegionLevel.PROVINCE

    def cells(rows):
        return [row_cells(row, whole_province=whole_province) for row in rows]

    title = f"{region.name}获得电力评分 · {period.label}"
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(workbook(card, title=title, whole_province=whole_province), content_type=XLSX)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''scorecard-{region.code}-{period.code}.xlsx"
        return response
    return render(
        request,
        "reporting/scorecard.html",
        {
            "region": region,
            "period": period,
            "previous": card.previous,
            "title": title,
            "headers": HEADERS,
            "tables": [
                # (heading, note, rows' cells): the province and cities, then the counties
                ("全省与各地市" if whole_province else "全市", AREAS_NOTE if whole_province else CITY_NOTE, cells(card.areas)),
                ("各县", "", cells(card.counties)),
            ],
            "chart": card.areas + card.counties,
            "whole_province": whole_province,
            "frontiers": FRONTIERS.values(),
            "components": COMPONENTS,
            "can_enter": request.user.has_perm("reporting.enter_reliability", region),
        },
    )


@login_required
def reliability_entry(request):
    """SAIDI/SAIFI of a province or city, its cities and counties for a period's span, typed or as a CSV."""
    region, period = _region(request, "reporting.enter_reliability", RANKED_LEVELS), _period(request)
    areas = list(
        Region.objects.restrict(request.user, Action.CHANGE)
        .filter(path__startswith=region.path, level__in=reliability.LEVELS)
        .order_by("path")
    )
    stored = {
        r.region_id: r
        for r in Reliability.objects.restrict(request.user, Action.VIEW).filter(region__in=areas, year=period.year, kind=period.kind)
    }
    typed, errors, status = {}, [], 200
    if request.method == "POST":
        try:
            channel = "import" if request.FILES.get("file") else "web"
            if channel == "import":
                figures = reliability.csv_figures(request.FILES["file"].read())
            else:
                typed = {a.code: {n: request.POST.get(f"{a.code}-{n}", "").strip() for n in ("saidi", "saifi", "source")} for a in areas}
                figures = [reliability.Figure(where=a.name, region=a.code, **typed[a.code]) for a in areas if any(typed[a.code].values())]
            reliability.reliability_set(user=request.user, year=period.year, kind=period.kind, figures=figures, channel=channel)
        except ValidationError as exc:
            errors, status = exc.messages, 400
            messages.error(request, "有填写错误，未保存任何内容。")
        else:
            messages.success(request, f"已保存 {len(figures)} 个区域{period.label}的供电可靠性数据。")
            return redirect(request.get_full_path())
    lines = [
        (
            area,
            {
                name: typed.get(area.code, {}).get(name, getattr(stored[area.pk], name) if area.pk in stored else "")
                for name in ("saidi", "saifi", "source")
            },
        )
        for area in areas
    ]
    context = {"region": region, "period": period, "lines": lines, "errors": errors, "entry": True}
    return render(request, "reporting/scorecard.html", context, status=status)
