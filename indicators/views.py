from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import Region
from accounts.scoping import Action
from utilities.errors import ConflictError

from . import review, services
from .forms import parse_sheet, parse_version, sheet_files, typed_from_checkmark
from .models import Channel, Checkmark, Evidence, Indicator
from .selectors import city_overview, history, period_get, review_matrix, sheet
from .signals import sheet_indicators_shown
from .signoff import changes_since_signoff, county_exception, named_counties, province_signoff


def _period_and_region(request, code, region_code, levels):
    """The period and the region in the user's view; ``region.changeable`` says whether the user's
    scope also lets them change it (read in the same query)."""
    # ?program= on a page, or a posted "program" field (a review step's form); none: the national program
    period = period_get(code=code, program=request.GET.get("program") or request.POST.get("program"))
    changeable = Exists(Region.objects.restrict(request.user, Action.CHANGE).filter(pk=OuterRef("pk")))
    region = get_object_or_404(Region.objects.restrict(request.user, Action.VIEW).annotate(changeable=changeable), code=region_code)
    if region.level not in levels:
        raise Http404("该页面不适用于此级区域。")
    return period, region


def _field_errors(exc):
    """A service's ValidationError as (per-indicator errors, page-level messages)."""
    if hasattr(exc, "error_dict"):
        return {label: [str(m) for e in errors for m in e.messages] for label, errors in exc.error_dict.items()}, []
    return {}, exc.messages


@login_required
def sheet_view(request, code, region_code):
    """A county's 31 indicators (or a province's 7): fill, save, submit."""
    period, region = _period_and_region(request, code, region_code, {"county", "province"})
    typed, errors, status = None, {}, 200
    if request.method == "POST":
        # A save that succeeds redirects: only the indicators and what is stored are needed to read the form.
        indicators = list(Indicator.objects.filter(indicator_set=period.indicator_set_id, level=region.level).order_by("number"))
        numbers = {indicator.pk: indicator.number for indicator in indicators}
        stored = {
            numbers[c.indicator_id]: typed_from_checkmark(c)
            for c in Checkmark.objects.filter(region=region, period=period, indicator__in=indicators)
        }
        values, typed, errors = parse_sheet(request.POST, indicators, stored)
        if not errors:
            errors = _save_sheet(request, region, period, values, sheet_files(request.FILES, indicators))
            if not errors:
                return redirect(request.get_full_path())
        status = 400
    data = sheet(region=region, period=period)
    sheet_indicators_shown.send(sender=sheet_view, user=request.user, region=region, indicators=[row.indicator for row in data.rows])
    if typed is None:
        typed = {row.indicator.number: typed_from_checkmark(row.checkmark) for row in data.rows}
    groups = [
        (group, [{"row": row, "typed": typed[row.indicator.number], "errors": errors.get(row.indicator.label, [])} for row in rows])
        for group, rows in data.groups
    ]
    return render(
        request,
        "indicators/sheet.html",
        {
            "sheet": data,
            "groups": groups,
            "page_errors": errors.get("", []),
            "can_edit": _can_edit(request.user, region, data),
            "exception": county_exception(county=region, period=period) if region.level == "county" else None,
        },
        status=status,
    )


def _can_edit(user, region, data):
    """Whether to show an editable form: exactly when the service would take the write — the
    period not locked, and the policy's rule that checkmarks_set asks (a county while its data is
    drafted or returned, its province at any time)."""
    if data.lock is not None or not region.changeable:
        return False
    return user.has_perm(f"indicators.fill_{region.level}_sheet", data.submission)


def _save_sheet(request, region, period, values, files):
    """Save values and files, and submit if asked, in one service call; returns field errors."""
    try:
        saved = services.sheet_save(
            user=request.user,
            region=region,
            period=period,
            values=values,
            files=files,
            expected_version=parse_version(request.POST),
            submit=request.POST.get("action") == "submit",
            channel=Channel.WEB,
        )
    except ValidationError as exc:
        errors, page = _field_errors(exc)
        for message in page:
            messages.error(request, message)
        if errors:
            messages.error(request, "有填写错误，未保存任何内容：请按提示修改后再保存。")
        return errors or {"": page}
    except ConflictError as exc:
        messages.error(request, exc.message)
        return {"": [exc.message]}
    if saved.changed or saved.evidence:
        messages.success(request, f"已保存（{saved.changed} 项指标、{len(saved.evidence)} 个佐证文件）。")
    for message in saved.submit_refused:  # the save stands; what stops the submit is listed
        messages.error(request, message)
    if saved.submitted:
        messages.success(request, "已上报，等待地市审核。")
    return {}


def _act(request, service, success, **kwargs):
    try:
        service(user=request.user, channel=Channel.WEB, **kwargs)
    except ValidationError as exc:
        errors, page = _field_errors(exc)
        for message in page + [m for ms in errors.values() for m in ms]:
            messages.error(request, message)
        return False
    except ConflictError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, success)
    return True


ACTIONS = {
    "submit": (services.county_submit, False, "已上报，等待地市审核。"),
    "return": (review.county_return, True, "已退回，县级可以修改后重新上报。"),
    "approve": (review.county_approve, False, "已审核通过。"),
    "accept": (review.city_accept, False, "已接收该地市的数据。"),
    "confirm": (review.period_confirm, False, "已确认，本期数据已锁定。"),
    "reopen": (review.period_reopen, True, "已重新开放，可以更正本期数据。"),
}


@login_required
@require_POST
def action_view(request, code, region_code):
    """One review step on a region: submit, return, approve, accept, confirm or reopen."""
    period, region = _period_and_region(request, code, region_code, {"county", "city", "province"})
    if request.POST.get("action") not in ACTIONS:
        raise Http404("未知的操作。")
    service, needs_reason, success = ACTIONS[request.POST["action"]]
    kwargs = {"region": region, "period": period}
    if needs_reason:
        kwargs["reason"] = request.POST.get("reason", "")
    _act(request, service, success, **kwargs)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse("home")
    return redirect(target)


def _reviewer(request):
    if not request.user.has_perm("indicators.view_review_page"):
        raise PermissionDenied("只有地市、省级和国家层面的用户可以查看审核页面。")


@login_required
def review_view(request, code, region_code):
    """A city's counties × indicators, each county's state, return and approve."""
    _reviewer(request)
    period, city = _period_and_region(request, code, region_code, {"city"})
    indicators, rows = review_matrix(city=city, period=period)
    changes = changes_since_signoff(user=request.user, regions=[row.county for row in rows], period=period)
    for row in rows:
        row.changes = changes.get(row.county.pk)
    return render(request, "indicators/review.html", {"period": period, "city": city, "indicators": indicators, "rows": rows})


SIGNOFFS = {
    "accept": (review.city_accept, "已接收该地市的数据。"),
    "confirm": (review.period_confirm, "已确认，本期数据已锁定。"),
}


@login_required
def province_view(request, code, region_code):
    """A province's cities, their acceptance, the province indicators, confirm and reopen.

    Accepting a city and confirming post here: the counties not approved may be named exceptions,
    each with its reason; a refused sign-off comes back with the errors at the counties' fields.
    """
    _reviewer(request)
    period, province = _period_and_region(request, code, region_code, {"province"})
    # Every city's counties, states and exception reasons: not for a city reviewer (its own
    # counties are on its review and 未完成报送情况 pages).
    if not request.user.has_perm("indicators.view_province_page", province):
        raise PermissionDenied("全省填报与确认页面仅向本省能源主管部门、国家能源局及其派出机构开放。")
    errors, target, status = {}, None, 200
    if request.method == "POST":
        target, errors = _signoff(request, province, period)
        if not errors:
            return redirect(request.get_full_path())
        status = 400
    cities = city_overview(province=province, period=period)
    signoff = province_signoff(user=request.user, province=province, period=period, cities=cities)
    # What was typed in the form sent, echoed back with each county's errors; the others go on top of it.
    ticked = set(request.POST.getlist("exception"))
    sent = signoff["open"] if target == province.code else next((r["open"] for r in cities if r["city"].code == target), [])
    for county in sent:
        county.named, county.reason = county.code in ticked, request.POST.get(f"reason_{county.code}", "")
        county.errors = errors.pop(county.code, [])
    return render(
        request,
        "indicators/province.html",
        {
            "period": period,
            "province": province,
            "sheet": sheet(region=province, period=period),
            "cities": cities,
            "signoff": signoff,
            "target": target,
            "signoff_errors": [m for ms in errors.values() for m in ms],
        },
        status=status,
    )


def _signoff(request, province, period):
    """Accept the city posted, or confirm the province, with the exceptions ticked.

    Returns the code of the region signed (which form was sent) and the errors: by county code,
    and the others under NON_FIELD_ERRORS.
    """
    action = request.POST.get("action")
    if action not in SIGNOFFS:
        raise Http404("未知的操作。")
    region = province
    if action == "accept":
        cities = Region.objects.restrict(request.user, Action.VIEW).filter(parent=province)
        region = get_object_or_404(cities, code=request.POST.get("city", ""))
    named = {code: request.POST.get(f"reason_{code}", "") for code in request.POST.getlist("exception")}
    exceptions, errors = named_counties(user=request.user, named=named)
    if errors:
        return region.code, errors
    service, success = SIGNOFFS[action]
    try:
        service(user=request.user, region=region, period=period, exceptions=exceptions, channel=Channel.WEB)
    except ValidationError as exc:
        errors, page = _field_errors(exc)
        errors.setdefault(NON_FIELD_ERRORS, []).extend(page)
        return region.code, errors
    except ConflictError as exc:
        return region.code, {NON_FIELD_ERRORS: [exc.message]}
    messages.success(request, success)
    return region.code, {}


@login_required
def history_view(request, code, region_code):
    """Every change and review step of a region's period, optionally of one indicator."""
    period, region = _period_and_region(request, code, region_code, {"county", "city", "province"})
    indicator = None
    number = request.GET.get("indicator", "").strip()
    if number:
        # Not a number, or not one of this period's indicators: there is no such history (never a 500).
        if not (number.isascii() and number.isdigit() and len(number) <= 4):
            raise Http404(f"没有序号为“{number[:20]}”的指标。")
        indicator = get_object_or_404(Indicator, indicator_set=period.indicator_set_id, number=int(number))
    entries = history(user=request.user, region=region, period=period, indicator=indicator)[:500]
    return render(request, "indicators/history.html", {"period": period, "region": region, "indicator": indicator, "entries": entries})


@login_required
def evidence_view(request, pk):
    evidence = get_object_or_404(Evidence.objects.restrict(request.user, Action.VIEW), pk=pk)
    return FileResponse(evidence.file.open("rb"), as_attachment=True, filename=evidence.name)
