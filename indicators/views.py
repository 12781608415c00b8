import re
from dataclasses import dataclass
from urllib.parse import urlencode

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
from .forms import parse_sheet, parse_version, sheet_files, signoff_exceptions, typed_from_checkmark
from .models import Channel, CheckmarkStatus, Evidence, Indicator, SubmissionState
from .selectors import city_overview, history, indicators_with_marks, period_get, periods_beside, review_matrix, sheet
from .signals import sheet_indicators_shown
from .signoff import changes_since_signoff, county_exception, named_counties, province_signoff


def _period_and_region(request, code, region_code, levels):
    """The period and the region in the user's view; ``region.changeable`` says whether the user's
    scope also lets them change it (read in the same query)."""
    # ?program= on a page, or a posted "program" field (a review step's form); none: the national program
    period = period_get(code=code, program=request.GET.get("program") or request.POST.get("program"))
    changeable = Exists(Region.objects.restrict(request.user, Action.CHANGE).filter(pk=OuterRef("pk")))
    regions = Region.objects.restrict(request.user, Action.VIEW).annotate(changeable=changeable).select_related("parent__parent")
    region = get_object_or_404(regions, code=region_code)
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
        indicators, marks = indicators_with_marks(region=region, period=period)
        stored = {i.number: typed_from_checkmark(marks[i.pk]) for i in indicators if i.pk in marks}
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
    # Each blocker links on to the next one: "下一项未完成" on a phone, without script.
    stops = [b.indicator.number for b in data.blockers]
    following = dict(zip(stops, stops[1:]))
    groups = [
        (
            group,
            [
                {
                    "row": row,
                    "typed": typed[row.indicator.number],
                    "errors": errors.get(row.indicator.label, []),
                    "next": following.get(row.indicator.number),
                    # Done and nothing to fix: folded away, so what is left to fill stands out.
                    "folded": row.blocker is None
                    and row.checkmark is not None
                    and row.checkmark.status == CheckmarkStatus.DONE
                    and not errors.get(row.indicator.label),
                }
                for row in rows
            ],
        )
        for group, rows in data.groups
    ]
    switcher, running = periods_beside(region=region, period=period)
    return render(
        request,
        "indicators/sheet.html",
        {
            "sheet": data,
            "groups": groups,
            "state": sheet_state(region, data.submission),
            "missing": [b for b in data.blockers if not b.passed],
            "passed": [b for b in data.blockers if b.passed],
            "page_errors": errors.get("", []),
            "can_edit": _can_edit(request.user, region, data),
            "can_review": _can_review(request.user, region, data),
            "exception": county_exception(county=region, period=period) if region.level == "county" else None,
            "switcher": switcher,
            "running": running,
        },
        status=status,
    )


# A county's state as its clerk reads it beside "已保存": whether the sheet has reached the city.
COUNTY_STATES = {
    SubmissionState.DRAFT: "未上报",
    SubmissionState.RETURNED: "已退回，尚未重新上报",
    SubmissionState.SUBMITTED: "已上报，待地市审核",
    SubmissionState.APPROVED: "市级已审核",
}


def sheet_state(region, submission):
    if region.level == "county":
        return COUNTY_STATES[submission.state]
    return submission.get_state_display()


def _can_review(user, region, data):
    """Whether to show approve / return on a county's sheet: the county waits for review and the
    user may review it (review.county_approve and county_return ask the same rule)."""
    return (
        region.level == "county"
        and data.lock is None
        and data.submission.state in (SubmissionState.SUBMITTED, SubmissionState.APPROVED)
        and user.has_perm("indicators.review_county", region)
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
    state = sheet_state(region, saved.submission)
    if saved.changed or saved.evidence:
        messages.success(request, f"已保存（{saved.changed} 项指标、{len(saved.evidence)} 个佐证文件）。本表状态：{state}。")
    if saved.submit_refused:  # the save stands; what stops the submit is listed, and linked on the page
        messages.error(request, f"未能上报，本表状态：{state}。{''.join(saved.submit_refused)}请按页首“上报前尚需处理”逐项处理。")
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
    each with its reason, or in bulk (a city's remaining counties, or all remaining ones, with one
    reason). A refused sign-off comes back with a summary on top (counties left per city) and the
    errors at the fields.
    """
    _reviewer(request)
    period, province = _period_and_region(request, code, region_code, {"province"})
    # Every city's counties, states and exception reasons: not for a city reviewer (its own
    # counties are on its review and 未完成报送情况 pages).
    if not request.user.has_perm("indicators.view_province_page", province):
        raise PermissionDenied("全省填报与确认页面仅向本省能源主管部门、国家能源局及其派出机构开放。")
    # Read before a sign-off too: its form lists these counties (a refused one rolls back, so they stand).
    cities = city_overview(province=province, period=period)
    signoff = province_signoff(user=request.user, province=province, period=period, cities=cities)
    refusal, status = None, 200
    if request.method == "POST":
        refusal = _signoff(request, province, period, cities, signoff)
        if refusal is None:
            return redirect(request.get_full_path())
        status = 400
    for row in cities:
        row["groups"] = _by_city(row["open"])
    signoff["groups"] = _by_city(signoff["open"])
    if refusal is not None:
        _echo(refusal, request.POST, signoff["groups"] if refusal.region == province else _city_row(cities, refusal.region.code)["groups"])
    return render(
        request,
        "indicators/province.html",
        {
            "period": period,
            "province": province,
            "sheet": sheet(region=province, period=period),
            "cities": cities,
            "signoff": signoff,
            "refusal": refusal,
            "target": refusal.region.code if refusal else None,
        },
        status=status,
    )


@dataclass
class Refusal:
    """A sign-off refused: the region it was for, the messages for the top of the page, the
    counties left unnamed per city ([(city, count)]) and the errors by field (county code,
    ``rest`` or ``rest:<city code>``)."""

    region: Region
    verb: str
    messages: list
    unnamed: list
    errors: dict

    @property
    def unnamed_total(self):
        return sum(count for _city, count in self.unnamed)


def _city_row(cities, code):
    row = next((row for row in cities if row["city"].code == code), None)
    if row is None:
        raise Http404("没有这个地市。")
    return row


def _by_city(counties):
    """The counties a sign-off form lists, as groups per city (they come in path order)."""
    groups = []
    for county in counties:
        if not groups or groups[-1]["city"].pk != county.parent_id:
            groups.append({"city": county.parent, "counties": [], "ticked": False, "reason": "", "errors": []})
        groups[-1]["counties"].append(county)
    return groups


def _echo(refusal, data, groups):
    """What was typed in the form sent, back at its fields with their errors."""
    ticked, cities = set(data.getlist("exception")), set(data.getlist("rest_city"))
    for group in groups:
        code = group["city"].code
        group.update(ticked=code in cities, reason=data.get(f"rest_reason_{code}", ""), errors=refusal.errors.pop(f"rest:{code}", []))
        for county in group["counties"]:
            county.named, county.reason = county.code in ticked, data.get(f"reason_{county.code}", "")
            county.errors = refusal.errors.pop(county.code, [])
    refusal.rest = {"ticked": bool(data.get("rest_all")), "reason": data.get("rest_reason", ""), "errors": refusal.errors.pop("rest", [])}
    refusal.messages += [m for ms in refusal.errors.values() for m in ms]  # codes no form lists (a stale or forged form)


def _signoff(request, province, period, cities, signoff):
    """Accept the city posted, or confirm the province, with the exceptions named; None when done,
    else the Refusal to show."""
    action = request.POST.get("action")
    if action not in SIGNOFFS:
        raise Http404("未知的操作。")
    if action == "accept":
        row = _city_row(cities, request.POST.get("city", ""))
        region, listed, verb = row["city"], row["open"], "接收"
    else:
        region, listed, verb = province, signoff["open"], "确认"
    named, errors = signoff_exceptions(request.POST, listed)
    exceptions, unknown = named_counties(user=request.user, named=named)
    errors.update(unknown)
    if not errors:
        service, success = SIGNOFFS[action]
        try:
            service(user=request.user, region=region, period=period, exceptions=exceptions, channel=Channel.WEB)
        except ValidationError as exc:
            # The counties left unnamed are summed up per city above the form, and listed in it.
            listed_above = [e for e in getattr(exc, "error_dict", {}).get(NON_FIELD_ERRORS, []) if e.code == review.UNNAMED]
            errors, page = _field_errors(exc)
            errors.setdefault(NON_FIELD_ERRORS, []).extend(page)
            errors[NON_FIELD_ERRORS] = [m for m in errors[NON_FIELD_ERRORS] if m not in {str(e.message) for e in listed_above}]
        except ConflictError as exc:
            errors = {NON_FIELD_ERRORS: [exc.message]}
        else:
            messages.success(request, success)
            return None
    unnamed = {}
    for county in listed:
        if county.code not in named:
            unnamed.setdefault(county.parent, 0)
            unnamed[county.parent] += 1
    return Refusal(region, verb, errors.pop(NON_FIELD_ERRORS, []), list(unnamed.items()), errors)


# The pages the period switcher moves between (each takes a period code and a region code).
SWITCHABLE_PAGES = {"sheet", "review", "province", "history", "promises", "blocking", "applications"}
CODE_RE = re.compile(r"[0-9A-Za-z]{1,12}")


@login_required
def period_switch_view(request):
    """The period switcher's GET form: the same page of the period chosen. The page itself checks
    the period and the region (an unknown period is its 404)."""
    page, code, region_code = (request.GET.get(name, "") for name in ("page", "period", "region"))
    if page not in SWITCHABLE_PAGES or not (CODE_RE.fullmatch(code) and CODE_RE.fullmatch(region_code)):
        raise Http404("没有这个报告期或页面。")
    program = request.GET.get("program", "")
    query = f"?{urlencode({'program': program})}" if program else ""
    return redirect(reverse(f"indicators:{page}", args=[code, region_code]) + query)


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
