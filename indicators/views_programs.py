"""Every program of a region in one half-year on one page (issue 13 §2): each program's indicators
grouped under it, and the √ one program's sheet offers for another's taken with one click."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import Region
from accounts.scoping import Action
from utilities.errors import ConflictError

from .mapping import mapped_targets, offers, offers_take
from .models import Channel, Period
from .selectors import programs_covering, sheet


@login_required
def programs_view(request, code, region_code):
    """The programs covering a county (or a province) with a period ``code``: a section each, the
    offers on the rows of the program they are for. POST takes the chosen offers of one program."""
    region = get_object_or_404(Region.objects.restrict(request.user, Action.VIEW), code=region_code)
    if region.level not in ("county", "province"):
        raise Http404("该页面不适用于此级区域。")
    periods = list(
        Period.objects.filter(code=code, program__in=programs_covering(region))
        .select_related("program", "indicator_set")
        .order_by("program__order", "program__code")
    )
    if not periods:
        raise Http404(f"报告期 {code} 尚未开放。")
    if request.method == "POST":
        period = next((p for p in periods if p.program.code == request.POST.get("program")), None)
        if period is None:
            raise Http404("该方案不覆盖此区域或报告期未开放。")
        numbers = [int(n) for n in request.POST.getlist("take") if n.isdigit()]
        try:
            _submission, changed = offers_take(user=request.user, region=region, period=period, numbers=numbers, channel=Channel.WEB)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        except ConflictError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已采用 {changed} 项（{period.program.name}）。")
        # Taken from a sheet's banner: back to that sheet.
        back = request.POST.get("next", "")
        safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure())
        return redirect(back if back and safe else request.path)
    sections = []
    for period in periods:
        data = sheet(region=region, period=period)
        offered = {o.target.pk: o for o in offers(region=region, period=period)}
        targets = mapped_targets(indicator_set=period.indicator_set)
        groups = [
            (
                group,
                [{"row": row, "offer": offered.get(row.indicator.pk), "targets": targets.get(row.indicator.number, [])} for row in rows],
            )
            for group, rows in data.groups
        ]
        sections.append({"period": period, "sheet": data, "groups": groups, "offers": len(offered)})
    return render(request, "indicators/program_periods.html", {"region": region, "code": code, "sections": sections})
