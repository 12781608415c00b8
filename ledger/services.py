"""Writes on a province's own ledger: adaptation, items, breakdown, progress and 督办 (the
reference documents are loaded by ledger.reference)."""

from collections import defaultdict
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.changes import change_event, changes_record
from accounts.models import OrgUnit, Region, User
from accounts.notifications import notify
from accounts.scoping import Action, ensure_in_scope
from indicators.evidence import DEFAULT_MAX_BYTES, validate_upload
from utilities.errors import StaleVersion

from .models import Assignment, AssignmentStatus, Ledger, LedgerItem, Pressing, ProgressEvidence, ProgressKind, ProgressUpdate

LEDGER_ITEM = "ledger_item.changed"
ASSIGNMENT = "assignment.changed"


def _iso(day):
    return day.isoformat() if day else None


def ledger_item_changed(*, item, indicators, action, channel, user=None, previous_number=None):
    """The change-feed event of ``item`` after ``action`` (create / update / delete): the item as the
    API shows it; ``indicators`` are its Indicators, their sets loaded. ``previous_number``: the number
    of a renumbered item, whose old path is gone."""
    ledger = item.ledger
    return change_event(
        type=LEDGER_ITEM,
        object_url=reverse("api:ledger-item-detail", kwargs={"code": ledger.code, "number": item.number}),
        region=ledger.region,
        channel=channel,
        user=user,
        data={
            "ledger": ledger.code,
            "number": item.number,
            "title": item.task,
            "deadline": _iso(item.due_date),
            "action": action,
            "category": item.category,
            "responsible_units": item.responsible_units,
            "due_text": item.due_text,
            "ongoing": item.ongoing,
            "extra": item.extra,
            "indicators": sorted([i.indicator_set.code, i.number] for i in indicators),
            "previous_number": previous_number,
        },
    )


def _item_indicators(item):
    return list(item.indicators.select_related("indicator_set"))


def assignment_changed(*, assignment, action, note, channel, user=None):
    """The change-feed event of ``assignment`` after ``action`` (assign / progress / return / approve /
    press / overdue) with the ``note`` that came with it: the fields of the API's assignment a mirror
    keeps; the event's version is its ETag."""
    return change_event(
        type=ASSIGNMENT,
        object_url=reverse("api:assignment-detail", args=[assignment.pk]),
        region=assignment.region,
        org_unit=assignment.org_unit,
        channel=channel,
        version=str(assignment.version),  # a string: version 0 is still a version
        user=user,
        data={
            "id": assignment.pk,
            "ledger": assignment.item.ledger.code,
            "item": assignment.item.number,
            "region": assignment.region.code,
            "status": assignment.status,
            "deadline": _iso(assignment.milestone),
            "action": action,
            "note": note,
            "parent": assignment.parent_id,
            "responsible_unit": assignment.responsible_unit,
            "org_unit": assignment.org_unit_id,
            "org_unit_name": assignment.org_unit.name if assignment.org_unit_id else "",
            "lead": assignment.lead,
            "contact": assignment.contact,
            "phone": assignment.phone,
            "progress": assignment.progress,
            "progress_on": _iso(assignment.progress_on),
            "returned_reason": assignment.returned_reason,
        },
    )


def _can_edit_ledger(user, ledger, perm="ledger.edit_items"):
    """A ledger is edited by the officials of its own region (a province's by the province); the
    documents' own text (reference ledgers, reloaded by `load_reference`) is never edited."""
    if ledger.is_reference:
        raise PermissionDenied(f"“{ledger.name}”是文件原文，不能修改；请先据此制定本地台账。")
    if not user.has_perm(perm, ledger):
        raise PermissionDenied(f"您不能修改“{ledger.name}”。")


def _unique_code(base):
    code, n = base, 1
    while Ledger.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


@transaction.atomic
def ledger_adapt(*, user, region, year, source, name=None, channel="web", due_texts=None):
    """A region's own ledger for a year, copied from ``source`` (the national one or last year's);
    every item remembers the item it came from. ``due_texts`` ({source item number: 完成时间}) gives
    items their new year's deadlines; an item not in it keeps its source's."""
    if not user.has_perm("ledger.adapt", region):
        raise PermissionDenied(f"只有{region.name}的主管部门可以制定本地台账。")
    if not Ledger.objects.restrict(user, Action.VIEW).filter(pk=source.pk).exists():
        raise PermissionDenied(f"您不能查看“{source.name}”。")
    ledger = Ledger(
        code=_unique_code(f"{region.code}-{year}"),
        name=name or f"{region.name}{year}年全面提升“获得电力”服务水平工作任务台账",
        document=f"据{source.name}改编",
        region=region,
        year=year,
        extra_columns=list(source.extra_columns),
        source=source,
    )
    ledger.full_clean()
    ledger.save()
    items, errors = [], {}
    for item in source.items.order_by("number"):
        new = LedgerItem(
            ledger=ledger,
            number=item.number,
            category=item.category,
            task=item.task,
            responsible_units=item.responsible_units,
            due_text=item.due_text,
            due_date=item.due_date,
            ongoing=item.ongoing,
            extra=dict(item.extra),
            source_item=item,
        )
        if item.number in (due_texts or {}):
            new.due_text, new.due_date, new.ongoing = due_texts[item.number].strip(), None, False
            try:
                new.clean_fields(exclude=[f.name for f in LedgerItem._meta.fields if f.name != "due_text"])
                new.clean()  # the text parsed against the new ledger's year
            except ValidationError as exc:
                errors[f"due_{item.number}"] = [f"第 {item.number} 项：{m}" for m in exc.messages]
        items.append(new)
    if errors:
        raise ValidationError(errors)
    LedgerItem.objects.bulk_create(items)
    # The indicators that measure an item measure its adaptation too.
    links = LedgerItem.indicators.through
    source_links = defaultdict(list)
    for link in links.objects.filter(ledgeritem__ledger=source).select_related("indicator__indicator_set"):
        source_links[link.ledgeritem_id].append(link.indicator)
    new_items = list(ledger.items.order_by("number"))  # their ledger is ``ledger``, not read again
    links.objects.bulk_create(
        links(ledgeritem_id=new.pk, indicator_id=indicator.pk) for new in new_items for indicator in source_links[new.source_item_id]
    )
    changes_record(
        ledger_item_changed(item=new, indicators=source_links[new.source_item_id], action="create", channel=channel, user=user)
        for new in new_items
    )
    return ledger


@transaction.atomic
def ledger_item_save(
    *, user, ledger, number, category="", task, responsible_units="", due_text, extra=None, indicators=None, item=None, channel="web"
):
    """Add an item, or change the item of that number; the due text is parsed (“2021年4月底前”, “持续推进”…).

    With ``item``, that item is changed, its number too (a taken number is refused by the unique check).
    """
    _can_edit_ledger(user, ledger)
    if item is None:
        item = ledger.items.filter(number=number).first() or LedgerItem(ledger=ledger)
    elif item.ledger_id != ledger.pk:
        raise PermissionDenied(f"事项 {item.number} 不属于“{ledger.name}”。")
    action, previous_number = ("update", item.number) if item.pk else ("create", None)
    item.number = number
    item.category, item.task, item.responsible_units, item.due_text = category, task, responsible_units, due_text
    item.extra = extra if extra is not None else item.extra
    item.due_date, item.ongoing = None, False
    item.full_clean()
    item.save()
    if indicators is not None:
        item.indicators.set(indicators)
    changes_record(
        [
            ledger_item_changed(
                item=item,
                indicators=_item_indicators(item),
                action=action,
                channel=channel,
                user=user,
                previous_number=previous_number if previous_number != number else None,
            )
        ]
    )
    return item


@transaction.atomic
def ledger_item_delete(*, user, item, channel="web"):
    _can_edit_ledger(user, item.ledger)
    # Progress is what a region reported: an assignment's status alone (持续推进 from the start,
    # 逾期 set by the job) is not.
    if ProgressUpdate.objects.filter(assignment__item=item, kind=ProgressKind.REPORT).exists():
        raise ValidationError(f"事项 {item.number} 已有进展，不能删除。")
    event = ledger_item_changed(item=item, indicators=_item_indicators(item), action="delete", channel=channel, user=user)
    item.delete()
    changes_record([event])


def _progress(assignment, *, user, kind, before="", after="", note="", progress_on=None, channel="web"):
    return ProgressUpdate.objects.create(
        assignment=assignment,
        user=user,
        kind=kind,
        status_before=before,
        status_after=after,
        note=note,
        progress_on=progress_on,
        channel=channel,
    )


@transaction.atomic
def assignment_create(
    *,
    user,
    item,
    region=None,
    responsible_unit="",
    org_unit=None,
    lead=False,
    contact="",
    phone="",
    milestone=None,
    parent=None,
    channel="web",
):
    """Give part of an item to a region below, or (with ``parent``) break a city's part down to a county,
    or (with ``org_unit``) give it to a company's unit: its region is then the company's province and
    its responsible unit the unit's name unless given.

    The ledger's officials assign to their regions; a city breaks down its own assignment; a company's
    head office gives a ledger of its province to its own units.
    """
    if org_unit is not None:
        _unit_assigner(user, item.ledger, org_unit)
        region = region or org_unit.company.province
        responsible_unit = responsible_unit or org_unit.name
    elif parent is not None:
        _breaker(user, parent)
    else:
        _can_edit_ledger(user, item.ledger, "ledger.assign")
    if org_unit is None and not Region.objects.restrict(user, Action.CHANGE).filter(pk=region.pk).exists():
        raise PermissionDenied(f"“{region.name}”不在您的管辖范围内。")
    if milestone is None and not item.ongoing:
        milestone = item.due_date
    assignment = Assignment(
        item=item,
        region=region,
        org_unit=org_unit,
        parent=parent,
        responsible_unit=responsible_unit,
        lead=lead,
        contact=contact,
        phone=phone,
        milestone=milestone,
        updated_by=user,
        status=AssignmentStatus.ONGOING if item.ongoing else AssignmentStatus.NOT_STARTED,
    )
    assignment.full_clean()
    assignment.save()
    if org_unit is not None:
        ensure_in_scope(user, assignment)
    update = _progress(
        assignment,
        user=user,
        kind=ProgressKind.ASSIGN,
        after=assignment.status,
        channel=channel,
        note=f"分解至{org_unit.company.name if org_unit else region.name}（{responsible_unit}{'，牵头' if lead else ''}）",
    )
    changes_record([assignment_changed(assignment=assignment, action="assign", note=update.note, channel=channel, user=user)])
    return assignment


def unit_names(text):
    """The units a 责任部门 cell names, first named first: “营销部、设备部；营销部、互联网部” (several
    sub-measures joined with “；”) → 营销部, 设备部, 互联网部."""
    names = (name.strip() for part in text.split("；") for name in part.split("、"))
    return list(dict.fromkeys(name for name in names if name))


@transaction.atomic
def unit_assignments_create(*, user, ledger, company, channel="web"):
    """Give every item of ``ledger`` to the units of ``company`` its 责任部门 names, the first named
    leading (a document lists the 牵头 department first); items already given to a unit keep it.
    A name that is not one of the company's units stops it all, naming the item and the name:
    nothing is stored then. Returns the assignments made."""
    _can_assign_units(user, ledger)
    units = {unit.name: unit for unit in company.units.all()}
    items = list(ledger.items.order_by("number").prefetch_related("assignments"))
    unknown = [
        f"第 {item.number} 项“责任单位”：“{name}”不是{company.name}的单位。"
        for item in items
        for name in unit_names(item.responsible_units)
        if name not in units
    ]
    if unknown:
        raise ValidationError({"responsible_units": unknown})
    made = []
    for item in items:
        given = {a.org_unit_id for a in item.assignments.all()}
        for n, name in enumerate(unit_names(item.responsible_units)):
            if units[name].pk not in given:
                made.append(assignment_create(user=user, item=item, org_unit=units[name], lead=n == 0, channel=channel))
    return made


def _locked(assignment):
    """The assignment as stored, locked until the transaction ends: its event then carries the state
    it commits with, not one a concurrent write has since replaced."""
    return Assignment.objects.select_for_update(of=("self",)).select_related("region", "org_unit", "item__ledger").get(pk=assignment.pk)


def _can_assign_units(user, ledger):
    """Who gives a ledger's items to a company's units: the ledger's officials (to a company of their
    province) or the company's head office (to its own units)."""
    _can_edit_ledger(user, ledger, "ledger.assign_units" if user.company_id else "ledger.assign")


def _unit_assigner(user, ledger, org_unit):
    _can_assign_units(user, ledger)
    company = org_unit.company
    if user.company_id is not None:  # a company's own units, wherever its user's region lies
        if company.pk != user.company_id:
            raise ValidationError({"org_unit": [f"单位“{org_unit.name}”属于{company.name}，不是{user.company.name}的单位。"]})
    elif not OrgUnit.objects.restrict(user, Action.CHANGE).filter(pk=org_unit.pk).exists():
        raise ValidationError({"org_unit": [f"单位“{org_unit.name}”所属的{company.name}不在您的管辖范围内。"]})


def _breaker(user, assignment):
    """Who breaks an assignment down further: the city it was given to."""
    if not user.has_perm("ledger.break_down", assignment):
        raise PermissionDenied(f"只有{assignment.region.name}可以继续分解这项任务。")


def _reporter(user, assignment):
    """Who reports progress: the assigned region's own staff, or a supply company serving it; a
    company unit's own staff for a unit's assignment."""
    if not user.has_perm("ledger.report_progress", assignment):
        if assignment.org_unit_id:
            raise PermissionDenied(f"只有{assignment.org_unit.name}可以报送这项任务的进展。")
        raise PermissionDenied("只有责任区域或其供电企业可以报送这项任务的进展。")


def _reviewer(user, assignment, perm="ledger.review_progress"):
    """Who reviews (or, with ``ledger.press``, presses): officials of a region above the assigned one;
    for a unit's assignment, its company's head office or a unit above it."""
    if not user.has_perm(perm, assignment):
        if assignment.org_unit_id:
            raise PermissionDenied(f"只有{assignment.org_unit.company.name}本部或上级单位可以审阅或督办这项任务。")
        raise PermissionDenied("只有上级主管部门可以审阅或督办这项任务。")


@transaction.atomic
def progress_report(*, user, assignment, status, note, progress_on=None, uploads=(), expected_version=None, channel="web", today=None):
    """Report what was done: the new status, the note, the date and evidence files; kept in the history."""
    today = today or timezone.localdate()
    assignment = _locked(assignment)
    _reporter(user, assignment)  # asked of the row as stored, inside the transaction
    if expected_version is not None and expected_version != assignment.version:
        raise StaleVersion("这项任务刚被他人更新，您填写的内容尚未保存：请刷新页面核对后再提交。")
    errors = {}
    if status not in AssignmentStatus.values or status == AssignmentStatus.OVERDUE:
        errors["status"] = ["请选择未开始、推进中、已完成或持续推进。"]
    if not (note or "").strip():
        errors["note"] = ["请填写进展情况。"]
    if progress_on and progress_on > today:
        errors["progress_on"] = ["进展日期不能晚于今天。"]
    kinds = []
    for upload in uploads:
        try:
            kinds.append(validate_upload(upload, max_bytes=DEFAULT_MAX_BYTES))
        except ValidationError as exc:
            errors.setdefault("evidence", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    before = assignment.status
    assignment.status, assignment.progress, assignment.progress_on = status, note.strip(), progress_on or today
    assignment.returned_reason = ""
    assignment.version += 1
    assignment.updated_by = user
    assignment.full_clean()
    assignment.save()
    update = _progress(
        assignment,
        user=user,
        kind=ProgressKind.REPORT,
        before=before,
        after=status,
        note=assignment.progress,
        progress_on=assignment.progress_on,
        channel=channel,
    )
    for upload, kind in zip(uploads, kinds):
        evidence = ProgressEvidence.from_upload(upload, kind=kind, update=update)
        evidence.save()
    changes_record([assignment_changed(assignment=assignment, action="progress", note=update.note, channel=channel, user=user)])
    return update


@transaction.atomic
def progress_review(*, user, assignment, note, send_back=False, channel="web"):
    """A reviewer above comments, or sends the assignment back (it returns to 推进中) with the reason."""
    assignment = _locked(assignment)
    _reviewer(user, assignment)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["请填写审阅意见或退回原因。"]})
    before = assignment.status
    if send_back:
        if before != AssignmentStatus.DONE:
            raise ValidationError({"note": ["只有报送为“已完成”的任务可以退回。"]})
        assignment.status, assignment.returned_reason = AssignmentStatus.IN_PROGRESS, note
        assignment.version += 1
        assignment.save()
    update = _progress(
        assignment,
        user=user,
        kind=ProgressKind.RETURN if send_back else ProgressKind.COMMENT,
        before=before,
        after=assignment.status,
        note=note,
        channel=channel,
    )
    action = "return" if send_back else "approve"
    changes_record([assignment_changed(assignment=assignment, action=action, note=note, channel=channel, user=user)])
    return update


@transaction.atomic
def press(*, user, assignment, note, channel="web"):
    """督办: an official above presses the region; recorded, with its channel (portal.notices tells the region's users)."""
    assignment = _locked(assignment)
    _reviewer(user, assignment, "ledger.press")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["请填写督办意见。"]})
    pressing = Pressing(assignment=assignment, by=user, note=note, channel=channel)
    pressing.full_clean()
    pressing.save()
    changes_record([assignment_changed(assignment=assignment, action="press", note=note, channel=channel, user=user)])
    return pressing


def assignments_mark_overdue(*, today, due_soon_days=7):
    """The beat job: past-milestone assignments become 逾期, and their regions (and the due-soon
    ones) are told once per assignment and state. Returns (marked overdue, notified)."""
    open_states = [AssignmentStatus.NOT_STARTED, AssignmentStatus.IN_PROGRESS]
    soon = list(
        Assignment.objects.filter(
            status__in=open_states, milestone__gte=today, milestone__lte=today + timedelta(days=due_soon_days)
        ).select_related("item__ledger", "region", "org_unit")
    )
    with transaction.atomic():
        # Locked: progress reported meanwhile is neither overwritten by 逾期 nor followed by an event of the old state.
        late = list(
            Assignment.objects.select_for_update(of=("self",))
            .filter(status__in=open_states, milestone__lt=today)
            .select_related("item__ledger", "region", "org_unit")
        )
        Assignment.objects.filter(pk__in=[a.pk for a in late]).update(status=AssignmentStatus.OVERDUE)
        updates = [
            ProgressUpdate(
                assignment=a,
                kind=ProgressKind.OVERDUE,
                status_before=a.status,
                status_after=AssignmentStatus.OVERDUE,
                channel="system",
                note=f"节点时间 {a.milestone:%Y-%m-%d} 已过",
            )
            for a in late
        ]
        ProgressUpdate.objects.bulk_create(updates)
        for a in late:
            a.status = AssignmentStatus.OVERDUE
        changes_record(assignment_changed(assignment=a, action="overdue", note=u.note, channel="system") for a, u in zip(late, updates))

    # A company unit's part is told to that unit's users only (never another company's in the region).
    def assignee(a):
        return ("unit", a.org_unit_id) if a.org_unit_id else ("region", a.region_id)

    users = defaultdict(list)
    people = User.objects.people().filter(
        Q(region__in={a.region_id for a in late + soon if not a.org_unit_id})
        | Q(org_unit__in={a.org_unit_id for a in late + soon if a.org_unit_id})
    )
    for u in people:
        if u.org_unit_id:
            users[("unit", u.org_unit_id)].append(u)
        if u.region_id:
            users[("region", u.region_id)].append(u)
    notified = 0
    for assignment, overdue in [(a, True) for a in late] + [(a, False) for a in soon]:
        title = f"{'逾期' if overdue else '即将到期'}：{assignment.item.ledger.name} 第 {assignment.item.number} 项"
        for recipient in users[assignee(assignment)]:
            sent = notify(
                user=recipient,
                level="red" if overdue else "yellow",
                title=title,
                body=f"节点时间 {assignment.milestone:%Y-%m-%d}，责任单位 {assignment.responsible_unit}。",
                link=reverse("ledger:assignment", args=[assignment.pk]),
                key=f"ledger:{assignment.pk}:{'overdue' if overdue else 'soon'}:{assignment.milestone:%Y%m%d}",
            )
            notified += sent is not None
    return len(late), notified
