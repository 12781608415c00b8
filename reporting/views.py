import re
from io import BytesIO

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe

from accounts.models import Region, RegionLevel
from accounts.scoping import Action
from indicators.models import Period, Program, ProgramTable
from indicators.selectors import period_get, program_get
from utilities.jobs import status as job_status_of
from utilities.views import job_page
from utilities.views import job_status as job_status_view

from . import excel, selectors, services
from .forms import BenefitsForm
from .models import Benefit, ReportJob, ReportKind, ReportSnapshot
from .overview import overview
from .tables import BENEFIT_CATEGORIES, BENEFIT_MEASURES, completion_table, group_spans


def _report_reader(user, obj=None):
    if not user.has_perm("reporting.read_reports", obj):
        raise PermissionDenied(selectors.REPORT_READERS_ONLY)


# The over-periods chart's canvas, in SVG user units; the plot sits inside the margins.
CHART_WIDTH, CHART_HEIGHT = 640, 260
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 48, 24, 16, 44


@login_required
def pictures(request):
    """A province's (or city's) heat map, city bars and trend; or (``region=all``, and by default for
    a user who views more than one province) the overview of every province in view."""
    user = request.user
    _report_reader(user)
    today = timezone.localdate()
    regions = Region.objects.restrict(user, Action.VIEW).filter(level__in=[RegionLevel.PROVINCE, RegionLevel.CITY])
    provinces = regions.filter(level=RegionLevel.PROVINCE)
    periods = _national_periods()
    period = _chosen_period(periods, request.GET.get("period"), today)
    code = request.GET.get("region")
    context = {"period": period, "periods": periods, "today": today}
    if code == OVERVIEW or (not code and provinces[:2].count() > 1):
        context["region_choices"] = provinces.order_by("code")
        if period:
            context["overview"] = overview(provinces=provinces, period=period)
        return render(request, "reporting/overview.html", context)
    region = _chosen_region(regions, code)
    province_path = region.path.split("/")[0] + "/"
    # Promise slips are a layer of their own, off unless asked for (a GET parameter: no script needed).
    slips = request.GET.get("slips") == "1"
    context.update(
        {
            "region": region,
            "slips": slips,
            # Every province the user may view, and the cities of the one shown.
            "region_choices": regions.filter(Q(level=RegionLevel.PROVINCE) | Q(path__startswith=province_path)).order_by("path"),
        }
    )
    if period:
        context["heatmap"] = _with_row_markup(selectors.heatmap(period=period, region=region, today=today, slips=slips))
        context["cities"] = selectors.completion_by_city(period=period, region=region)
    context["chart"] = _line_chart(selectors.completion_over_periods(region=region))
    return render(request, "reporting/pictures.html", context)


OVERVIEW = "all"  # the region parameter of the overview of every province in view

# A heat-map cell's symbol: its state is never told by colour alone (the legend names them).
CELL_SYMBOLS = {
    selectors.CellState.DONE: "√",
    selectors.CellState.PENDING: "○",
    selectors.CellState.OVERDUE: "!",
    selectors.CellState.MISSING: "",
}


def _with_row_markup(heatmap):
    """Each county's cells as one piece of markup, each distinct cell made once: a province's
    183 × 31 cells through the template language cost more than all the rest of the page. Only a
    cell not done carries its month (a title): the done ones are the bulk of a late period."""
    made = {}

    def cell_markup(cell):
        key = (cell["state"], cell["month"], cell.get("slipped", False))
        if key not in made:
            state, month, slipped = key
            notes = [f"预计{month.year}年{month.month}月完成"] if month and state != selectors.CellState.DONE else []
            if slipped:
                notes.append("承诺已推迟或逾期")
            title = f' title="{"；".join(notes)}"' if notes else ""
            made[key] = f'<td class="{state}{" slipped" if slipped else ""}"{title}>{CELL_SYMBOLS[state]}</td>'
        return made[key]

    for city in heatmap["cities"]:
        for county in city["counties"]:
            county["markup"] = mark_safe("".join(cell_markup(cell) for cell in county["cells"]))  # fixed strings and dates only
    return heatmap


def _national_periods():
    """The periods these pages work on: the national program's. 附件2, 附件3, the pictures and the
    comparison are 37号文's tables; another program's periods have their own indicators."""
    return list(Period.objects.filter(program__code=Program.NATIONAL).order_by("ends"))


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
        # A share of nothing (None: no counties) sits at 0 %; the Decimal share becomes a coordinate.
        return round(CHART_TOP + plot_height * (100 - float(value or 0)) / 100, 1)

    for index, point in enumerate(points):
        point["x"] = round(CHART_LEFT + step * index if step else CHART_LEFT + plot_width / 2, 1)
        point["complete_y"], point["done_y"] = y(point["complete_percent"]), y(point["done_percent"])
        # Each value printed beside its point: the counties' share above, the cells' below.
        point["complete_label_y"], point["done_label_y"] = round(point["complete_y"] - 8, 1), round(point["done_y"] + 16, 1)
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


@login_required
def reports(request):
    """A province's compiled tables for a period (a national official may pick any province, or 全国)."""
    user = request.user
    _report_reader(user)
    provinces = Region.objects.restrict(user, Action.VIEW).filter(level=RegionLevel.PROVINCE)
    # Each program compiles its own tables (issue 13): the national 附件2/附件3, Chongqing's completion table.
    program = program_get(request.GET.get("program"))
    programs = [p for p in Program.objects.order_by("order", "code") if p.tables]
    if not program.tables:
        raise Http404(f"方案“{program.name}”不编制统计表。")
    covered = list(program.regions.values_list("path", flat=True))
    if covered:  # the provinces of the regions the program names (none named: the whole country)
        provinces = provinces.filter(code__in={path.split("/")[0] for path in covered})
    national = request.GET.get("region") == "national" and ProgramTable.ATTACHMENT2 in program.tables
    region = None if national else _chosen_region(provinces, request.GET.get("region"))
    periods = list(Period.objects.filter(program=program).order_by("ends"))
    period = _chosen_period(periods, request.GET.get("period"), timezone.localdate())
    if period is None:
        raise Http404("尚未开放任何报告期。")
    if request.method == "POST":
        try:
            job = services.report_job_start(user=user, province=region, period=period)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            return redirect(request.get_full_path())
        return redirect("job", pk=job.job_id)
    snapshots = ReportSnapshot.objects.restrict(user, Action.VIEW).filter(period=period, region=region)
    jobs = ReportJob.objects.restrict(user, Action.VIEW).filter(period=period, job__region=region).select_related("job")[:10]
    running = next((j for j in jobs if not j.job.finished), None)
    return render(
        request,
        "reporting/reports.html",
        {
            "region": region,
            "period": period,
            "periods": periods,
            "program": program,
            "programs": programs,
            "tables": [ProgramTable(t).label.split()[0] for t in program.tables],
            "provinces": provinces.order_by("code"),
            "snapshots": snapshots.select_related("compiled_by", "confirmed_by")[:30],
            "jobs": jobs,
            "running": job_status_of(running.job) if running else None,
            "can_compile": user.has_perm("reporting.compile_national")
            if region is None
            else user.has_perm("reporting.compile_reports", region),
        },
    )


def _job_of_report(pk):
    """The Job behind report job ``pk`` (the id the API and older links use)."""
    return get_object_or_404(ReportJob.objects.only("job_id"), pk=pk).job_id


@login_required
def job(request, pk):
    """The report job's page: the one job page (``/jobs/<id>/``), under its older address."""
    return job_page(request, _job_of_report(pk))


@login_required
def job_status(request, pk):
    return job_status_view(request, _job_of_report(pk))


def _snapshot(request, pk):
    return get_object_or_404(ReportSnapshot.objects.restrict(request.user, Action.VIEW).select_related("region", "period"), pk=pk)


@login_required
def snapshot(request, pk):
    """A compiled table on screen, as it will print; confirm it, download it."""
    _report_reader(request.user)
    item = _snapshot(request, pk)
    if request.method == "POST":
        try:
            services.snapshot_confirm(user=request.user, snapshot=item)
            messages.success(request, "已确认该报表，此快照今后不会再被修改。")
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("reporting:snapshot", pk=item.pk)
    data = item.data
    context = {"snapshot": item, "data": data}
    if item.kind in (ReportKind.ATTACHMENT2, ReportKind.COMPLETION):
        context["groups"] = group_spans(c["group"] for c in data["columns"])
        context["summary_done"] = sum(1 for r in data["rows"] if r["kind"] == "county" and r["not_done"] == 0)
    elif item.kind == ReportKind.NATIONAL:
        context["groups"] = group_spans(c["group"] for c in data["columns"])
    return render(request, "reporting/snapshot.html", context)


@login_required
def snapshot_download(request, pk):
    _report_reader(request.user)
    item = _snapshot(request, pk)
    region = item.region.name if item.region else "全国"
    name = f"{region}{item.period.label}{item.get_kind_display().split()[0]}.xlsx"
    return FileResponse(item.xlsx.open("rb"), as_attachment=True, filename=name)


@login_required
def benefits(request):
    """A supply company enters its 附件3 figures for one region of its service area and one half-year."""
    user = request.user
    if user.region is None or not user.has_perm("reporting.enter_benefits", user.region):
        raise PermissionDenied("只有供电企业用户可以填报服务效益。")
    if user.company is None:
        raise PermissionDenied(services.NO_COMPANY)
    company = user.company
    today = timezone.localdate()
    year, half = _half_year_chosen(request.GET, today)
    areas = list(company.service_area.order_by("code"))
    code = request.GET.get("region")
    region = next((r for r in areas if r.code == code), None) if code else (areas[0] if areas else None)
    if code and region is None:
        # Named, not silently replaced by another region: the service refuses it with its message.
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise Http404(f"行政区划代码“{code}”不存在。")
    stored = {
        (b.category, m): getattr(b, m)
        for b in Benefit.objects.restrict(user, Action.VIEW).filter(company=company, region=region, year=year, half=half)
        for m, _label, _places in BENEFIT_MEASURES
    }
    typed, errors, status = {}, {}, 200
    if request.method == "POST":
        typed = {(c, m): request.POST.get(f"{c}-{m}", "").strip() for c, _ in BENEFIT_CATEGORIES for m, _l, _p in BENEFIT_MEASURES}
        form = BenefitsForm(request.POST)
        try:
            if region is None:
                raise ValidationError(f"{company.name}尚未设置供电服务区域，请联系省级能源主管部门。")
            if not form.is_valid():  # NaN, Infinity, 1e400…: told at the field, never a 500
                raise ValidationError(form.errors.as_data())
            services.benefits_set(user=user, region=region, year=year, half=half, figures=form.figures())
        except ValidationError as exc:
            errors = dict(exc.message_dict) if hasattr(exc, "error_dict") else {"": exc.messages}
            messages.error(request, "有填写错误，未保存任何内容。")
            status = 400
        else:
            messages.success(request, f"已保存{company.name}{region.name}{year}年{'上' if half == 1 else '下'}半年的服务效益。")
            return redirect(request.get_full_path())
    rows = [
        {
            "measure": m,
            "label": label,
            "step": "1" if places == 0 else "0.01",
            "cells": [
                {"name": f"{c}-{m}", "value": typed.get((c, m), stored.get((c, m), "")), "errors": errors.get(f"{c}-{m}", [])}
                for c, _ in BENEFIT_CATEGORIES
            ],
        }
        for m, label, places in BENEFIT_MEASURES
    ]
    return render(
        request,
        "reporting/benefits.html",
        {
            "company": company,
            "areas": areas,
            "region": region,
            "area_level": areas[0].get_level_display() if areas else "",
            "year": year,
            "half": half,
            "half_years": _half_years(today, (year, half)),
            "rows": rows,
            "categories": BENEFIT_CATEGORIES,
            "page_errors": errors.get("", [])
            or ([services.outside_area_message(company, region)] if region is not None and region not in areas else []),
        },
        status=status,
    )


HALF_YEAR_RE = re.compile(r"(?P<year>\d{4})S(?P<half>[12])")


def _half_year_chosen(query, today):
    """The half-year asked for: ``?period=2022S2`` (the picker, written like the period codes:
    2022S1 上半年, 2022S2 下半年), or ``?year=2022&half=2`` (links
    written before it); none: the current one. Anything else is a 404, never a 500."""
    if "period" in query:
        match = HALF_YEAR_RE.fullmatch(query["period"])
        if match is None:
            raise Http404("没有这个半年度：应写作“2022S1”（上半年）或“2022S2”（下半年）。")
        return int(match["year"]), int(match["half"])
    try:
        year = int(query.get("year", today.year))
        half = int(query.get("half", 1 if today.month <= 6 else 2))
    except ValueError:
        raise Http404("年度或半年不正确。") from None
    return year, half


def _half_years(today, chosen):
    """The half-years the 附件3 picker offers, newest first: from the first national period's year
    to the current half-year, and the one shown if it lies outside."""
    first = min([p.year for p in _national_periods()[:1]] + [today.year])
    current = (today.year, 1 if today.month <= 6 else 2)
    spans = {(y, h) for y in range(first, today.year + 1) for h in (1, 2) if (y, h) <= current} | {chosen}
    return [
        {"code": f"{y}S{h}", "label": f"{y}年{'上' if h == 1 else '下'}半年", "chosen": (y, h) == chosen}
        for y, h in sorted(spans, reverse=True)
    ]


@login_required
def export(request, kind):
    """The table as it stands now, without keeping a snapshot: the form to fill offline and import."""
    _report_reader(request.user)
    if kind not in services.WRITERS:
        raise Http404("未知的报表。")
    provinces = Region.objects.restrict(request.user, Action.VIEW).filter(level=RegionLevel.PROVINCE)
    region = get_object_or_404(provinces, code=request.GET.get("region", ""))
    period = period_get(code=request.GET.get("period", ""), program=request.GET.get("program"))  # none: national
    if period.program.code == Program.NATIONAL:
        compile_table, write = services.WRITERS[kind]
    elif kind == ReportKind.ATTACHMENT2:
        # Another program's 附件2 is its own completion table, in the same layout (issue 13).
        compile_table, write = completion_table, excel.completion_workbook
    else:
        raise Http404(f"附件3 只属于全国方案；方案“{period.program.name}”不编制附件3。")
    content = write(compile_table(province=region, period=period, user=request.user))
    name = f"{region.name}{period.label}{ReportKind(kind).label.split()[0]}.xlsx"
    return FileResponse(BytesIO(content), as_attachment=True, filename=name)


@login_required
def changes(request):
    """What changed in a province between two periods (by default the latest and the one before);
    ``format=xlsx`` downloads the same comparison as a workbook."""
    user = request.user
    _report_reader(user)
    provinces = Region.objects.restrict(user, Action.VIEW).filter(level=RegionLevel.PROVINCE)
    region = _chosen_region(provinces, request.GET.get("region"))
    periods = _national_periods()
    latest = _chosen_period(periods, None, timezone.localdate())
    codes = [p.code for p in periods]
    after = request.GET.get("after") or (latest.code if latest else "")
    position = codes.index(after) if after in codes else 0
    before = request.GET.get("before") or (codes[position - 1] if position > 0 else "")
    context = {"region": region, "provinces": provinces.order_by("code"), "periods": periods, "before": before, "after": after}
    if not (before and after):
        context["error"] = "至少需要两个报告期才能比较。"
        return render(request, "reporting/changes.html", context)
    try:
        before_period, after_period = services.changes_periods(before=before, after=after)
    except ValidationError as exc:
        context["error"] = " ".join(exc.messages)
        return render(request, "reporting/changes.html", context, status=400)
    result = services.changes_compile(province=region, before=before_period, after=after_period)
    if request.GET.get("format") == "xlsx":
        name = f"{region.name}{before_period.label}与{after_period.label}比较.xlsx"
        return FileResponse(BytesIO(excel.changes_workbook(result)), as_attachment=True, filename=name)
    context["changes"] = result
    return render(request, "reporting/changes.html", context)
