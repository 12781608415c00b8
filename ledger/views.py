"""The ledger pages: the board, adaptation, items, breakdown, progress and 督办.

Reads come from ``selectors`` (scoped, a fixed number of queries), writes go through ``services``;
a service's refusal is shown at the form's fields with HTTP 400 and nothing typed is lost.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import RegionLevel
from utilities.errors import ConflictError

from . import forms, selectors, services


def _submit(form, service, *args, **kwargs):
    """Run a write service; its refusal goes onto the form (the service stored nothing)."""
    try:
        return service(*args, **kwargs)
    except ValidationError as exc:
        forms.add_service_errors(form, exc)
    except ConflictError as exc:
        form.add_error(None, exc.message)
    return None


def _status(*page_forms):
    return 400 if any(form.errors for form in page_forms if form is not None) else 200


@login_required
def ledger_list(request):
    return render(request, "ledger/ledger_list.html", {"ledgers": selectors.ledgers_for(request.user)})


@login_required
def ledger_detail(request, code):
    """The ledger as a board: items with their assignments, late ones first, with filters."""
    ledger = selectors.ledger_for(user=request.user, code=code)
    filters = forms.BoardFilterForm(request.GET or None, categories=selectors.categories(user=request.user, ledger=ledger))
    rows = selectors.ledger_board(user=request.user, ledger=ledger, today=timezone.localdate(), **filters.criteria())
    return render(
        request,
        "ledger/ledger_detail.html",
        {
            "ledger": ledger,
            "rows": rows,
            "filters": filters,
            "can_edit": selectors.can_edit(request.user, ledger),
            "can_adapt": selectors.can_adapt(request.user),
            "can_assign_units": selectors.can_assign_units(request.user, ledger),
        },
    )


@login_required
@require_POST
def assign_units(request, code):
    """A company's head office gives every item to the units its 责任单位 names; an unknown name
    stores nothing and says which item and name."""
    ledger = selectors.ledger_for(user=request.user, code=code)
    if not selectors.can_assign_units(request.user, ledger):
        raise PermissionDenied(f"只有供电企业本部可以把“{ledger.name}”的事项分给本企业各部门。")
    company = request.user.company
    try:
        made = services.unit_assignments_create(user=request.user, ledger=ledger, company=company)
    except ValidationError as exc:
        messages.error(request, "未分解，请先在本企业的单位中补上这些部门，或修改事项的责任单位：" + " ".join(exc.messages))
    else:
        messages.success(request, f"已按责任单位分给{company.name}各部门：新分解 {len(made)} 条。")
    return redirect("ledger:detail", ledger.code)


@login_required
@require_http_methods(["GET", "POST"])
def ledger_adapt(request, code):
    """A province (or city) makes its own ledger for a year from this one: the new deadlines are
    shown item by item (shifted by whole years, or rewritten) before the ledger is made."""
    source = selectors.ledger_for(user=request.user, code=code)
    if not selectors.can_adapt(request.user):
        raise PermissionDenied("只有省级或地市主管部门可以制定本地台账。")
    year = timezone.localdate().year if source.is_reference else source.year + 1
    form = forms.AdaptForm(request.POST or None, initial={"year": year, "years": year - source.year})
    items, today = list(source.items.order_by("number")), timezone.localdate()
    rows, basis = None, f"{year}/{year - source.year}"
    if not form.is_bound:
        rows = forms.adapt_preview(items, year=year, years=year - source.year, today=today)
    elif form.is_valid():
        data, basis = form.cleaned_data, form.basis
        # A confirm of the preview shown saves what it lists; any other post shows the preview again.
        confirmed = request.POST.get("action") == "confirm" and data["shown"] == basis
        rows = forms.adapt_preview(items, year=data["year"], years=data["years"], today=today, sent=request.POST if confirmed else None)
        if confirmed and any(row.error for row in rows):
            form.add_error(None, "有完成时间无法识别，未制定台账：请按下表提示修改后再确认。")
        elif confirmed:
            ledger = _submit(
                form,
                services.ledger_adapt,
                user=request.user,
                region=request.user.region,
                source=source,
                year=data["year"],
                name=data["name"] or None,
                due_texts={row.item.number: row.text for row in rows},
            )
            if ledger is not None:
                messages.success(request, f"已据“{source.name}”制定“{ledger.name}”，共 {len(rows)} 项。")
                return redirect("ledger:detail", ledger.code)
        elif request.POST.get("action") == "confirm":
            form.add_error(None, "年度或平移年数已改：请核对下表的新完成时间，再确认制定。")
    return render(request, "ledger/adapt.html", {"source": source, "form": form, "rows": rows, "basis": basis}, status=_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def item_detail(request, code, number):
    """An item: its indicators, assignments and timeline; the ledger's officials assign it here."""
    ledger = selectors.ledger_for(user=request.user, code=code)
    item = selectors.item_for(user=request.user, ledger=ledger, number=number)
    form = None
    if selectors.can_edit(request.user, ledger) and ledger.region is not None:
        regions = selectors.assignable_regions(user=request.user, within=ledger.region, levels=[RegionLevel.CITY, RegionLevel.COUNTY])
        form = forms.AssignmentForm(request.POST or None, prefix="assign", regions=regions, milestone=item.due_date)
    elif request.method == "POST":
        raise PermissionDenied(f"您不能分解“{ledger.name}”的事项。")
    if form is not None and form.is_valid():
        assignment = _submit(form, services.assignment_create, user=request.user, item=item, **form.cleaned_data)
        if assignment is not None:
            messages.success(request, f"已分解至{assignment.region.name}（{assignment.responsible_unit}）。")
            return redirect(request.path)
    page = selectors.item_page(user=request.user, item=item, today=timezone.localdate())
    return render(request, "ledger/item.html", {"ledger": ledger, "item": item, "form": form, **page}, status=_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request, code, number=None):
    """Change an item of one's own ledger, or add one (no ``number``)."""
    ledger = selectors.ledger_for(user=request.user, code=code)
    item = None if number is None else selectors.item_for(user=request.user, ledger=ledger, number=number)
    selectors.ensure_can_edit(request.user, ledger)
    form = forms.ItemForm(
        request.POST or None,
        ledger=ledger,
        item=item,
        taken=ledger.items.values_list("number", flat=True),
        indicators=selectors.indicator_choices(user=request.user, ledger=ledger),
    )
    if form.is_valid():
        data = form.cleaned_data
        saved = _submit(
            form,
            services.ledger_item_save,
            user=request.user,
            ledger=ledger,
            item=item,
            number=data["number"],
            category=data["category"],
            task=data["task"],
            responsible_units=data["responsible_units"],
            due_text=data["due_text"],
            extra=form.extra(),
            indicators=data["indicators"],
        )
        if saved is not None:
            messages.success(request, f"已保存事项 {saved.number}（完成期限：{saved.due_display}）。")
            return redirect("ledger:item", ledger.code, saved.number)
    return render(request, "ledger/item_form.html", {"ledger": ledger, "item": item, "form": form}, status=_status(form))


@login_required
@require_POST
def item_delete(request, code, number):
    ledger = selectors.ledger_for(user=request.user, code=code)
    item = selectors.item_for(user=request.user, ledger=ledger, number=number)
    try:
        services.ledger_item_delete(user=request.user, item=item)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("ledger:item", ledger.code, number)
    messages.success(request, f"已删除事项 {number}。")
    return redirect("ledger:detail", ledger.code)


# What each button of the assignment page does: the form it submits, the service, what to say.
ASSIGNMENT_ACTIONS = {
    "report": (
        "report",
        lambda user, a, d: services.progress_report(
            user=user,
            assignment=a,
            status=d["status"],
            note=d["note"],
            progress_on=d["progress_on"],
            uploads=d["evidence"],
            expected_version=d["version"],
        ),
        "进展已报送。",
    ),
    "comment": ("review", lambda user, a, d: services.progress_review(user=user, assignment=a, note=d["note"]), "审阅意见已记录。"),
    "send_back": (
        "review",
        lambda user, a, d: services.progress_review(user=user, assignment=a, note=d["note"], send_back=True),
        "已退回，责任区域将看到退回原因。",
    ),
    "press": ("press", lambda user, a, d: services.press(user=user, assignment=a, note=d["note"]), "已督办，责任区域已收到通知。"),
    "break_down": (
        "break_down",
        lambda user, a, d: services.assignment_create(user=user, item=a.item, parent=a, **d),
        "已分解至{result.region.name}。",
    ),
}


def _assignment_forms(page, request, bound):
    """The forms the user may use on this assignment; ``bound`` names the one submitted."""
    assignment = page.assignment

    def make(key, form_class, **kwargs):
        data = (request.POST, request.FILES) if key == bound else (None, None)
        return form_class(*data, prefix=key, **kwargs)

    page_forms = {}
    if page.can_report:
        page_forms["report"] = make("report", forms.ReportForm, assignment=assignment)
    if page.can_review:
        page_forms["review"] = make("review", forms.ReviewForm)
        page_forms["press"] = make("press", forms.PressForm)
    if page.can_break_down:
        page_forms["break_down"] = make("break_down", forms.AssignmentForm, regions=page.regions, milestone=assignment.milestone)
    return page_forms


@login_required
@require_http_methods(["GET", "POST"])
def assignment_detail(request, pk):
    """An assignment: its facts, history and 督办; report progress, review, press, break down."""
    page = selectors.assignment_page(user=request.user, pk=pk, today=timezone.localdate())
    action = request.POST.get("action") if request.method == "POST" else None
    if action is not None and action not in ASSIGNMENT_ACTIONS:
        raise PermissionDenied("未知的操作。")
    key, run, success = ASSIGNMENT_ACTIONS[action] if action else (None, None, None)
    page_forms = _assignment_forms(page, request, key)
    if action is not None:
        form = page_forms.get(key)
        if form is None:
            raise PermissionDenied("您不能对这项任务执行该操作。")
        if form.is_valid():
            result = _submit(form, run, request.user, page.assignment, form.cleaned_data)
            if result is not None:
                messages.success(request, success.format(result=result))
                return redirect(_next(request) or request.path)
    return render(
        request, "ledger/assignment.html", {"page": page, "a": page.assignment, **page_forms}, status=_status(*page_forms.values())
    )


def _next(request):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return None


@login_required
def evidence_download(request, pk):
    evidence = selectors.evidence_for(user=request.user, pk=pk)
    return FileResponse(evidence.file.open("rb"), as_attachment=True, filename=evidence.name)


@login_required
def pressing_list(request):
    """Overdue and due-soon assignments in the official's scope, each with a 督办 button."""
    rows = selectors.assignments_to_press(user=request.user, today=timezone.localdate())
    return render(request, "ledger/pressing_list.html", {"rows": rows})
