"""Writes on a province's own ledger: adaptation, items, breakdown, progress and 督办 (the
reference documents are loaded by ledger.reference)."""

from collections import defaultdict
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Region, User, person_name
from accounts.notifications import notify
from accounts.scoping import Action
from indicators.evidence import DEFAULT_MAX_BYTES, validate_upload
from utilities.errors import StaleVersion

from .models import Assignment, AssignmentStatus, Ledger, LedgerItem, Pressing, ProgressEvidence, ProgressKind, ProgressUpdate


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
def ledger_adapt(*, user, region, year, source, name=None):
    """A region's own ledger for a year, copied from ``source`` (the national one or last year's);
    every item remembers the item it came from."""
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
    items = [
        LedgerItem(
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
        for item in source.items.order_by("number")
    ]
    LedgerItem.objects.bulk_create(items)
    # The indicators that measure an item measure its adaptation too.
    links = LedgerItem.indicators.through
    source_links = defaultdict(list)
    for item_id, indicator_id in links.objects.filter(ledgeritem__ledger=source).values_list("ledgeritem_id", "indicator_id"):
        source_links[item_id].append(indicator_id)
    links.objects.bulk_create(
        links(ledgeritem_id=new.pk, indicator_id=indicator_id)
        for new in LedgerItem.objects.filter(ledger=ledger)
        for indicator_id in source_links[new.source_item_id]
    )
    return ledger


@transaction.atomic
def ledger_item_save(*, user, ledger, number, category="", task, responsible_units="", due_text, extra=None, indicators=None, item=None):
    """Add an item, or change the item of that number; the due text is parsed (“2021年4月底前”, “持续推进”…).

    With ``item``, that item is changed, its number too (a taken number is refused by the unique check).
    """
    _can_edit_ledger(user, ledger)
    if item is None:
        item = LedgerItem.objects.filter(ledger=ledger, number=number).first() or LedgerItem(ledger=ledger)
    elif item.ledger_id != ledger.pk:
        raise PermissionDenied(f"事项 {item.number} 不属于“{ledger.name}”。")
    item.number = number
    item.category, item.task, item.responsible_units, item.due_text = category, task, responsible_units, due_text
    item.extra = extra if extra is not None else item.extra
    item.due_date, item.ongoing = None, False
    item.full_clean()
    item.save()
    if indicators is not None:
        item.indicators.set(indicators)
    return item


@transaction.atomic
def ledger_item_delete(*, user, item):
    _can_edit_ledger(user, item.ledger)
    # Progress is what a region reported: an assignment's status alone (持续推进 from the start,
    # 逾期 set by the job) is not.
    if ProgressUpdate.objects.filter(assignment__item=item, kind=ProgressKind.REPORT).exists():
        raise ValidationError(f"事项 {item.number} 已有进展，不能删除。")
    item.delete()


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
    *, user, item, region, responsible_unit, lead=False, contact="", phone="", milestone=None, parent=None, channel="web"
):
    """Give part of an item to a region below, or (with ``parent``) break a city's part down to a county.

    The ledger's officials assign to their regions; a city breaks down its own assignment.
    """
    if parent is not None:
        _breaker(user, parent)
    else:
        _can_edit_ledger(user, item.ledger, "ledger.assign")
    if not Region.objects.restrict(user, Action.CHANGE).filter(pk=region.pk).exists():
        raise PermissionDenied(f"“{region.name}”不在您的管辖范围内。")
    if milestone is None and not item.ongoing:
        milestone = item.due_date
    assignment = Assignment(
        item=item,
        region=region,
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
    _progress(
        assignment,
        user=user,
        kind=ProgressKind.ASSIGN,
        after=assignment.status,
        channel=channel,
        note=f"分解至{region.name}（{responsible_unit}{'，牵头' if lead else ''}）",
    )
    return assignment


def _breaker(user, assignment):
    """Who breaks an assignment down further: the city it was given to."""
    if not user.has_perm("ledger.break_down", assignment):
        raise PermissionDenied(f"只有{assignment.region.name}可以继续分解这项任务。")


def _reporter(user, assignment):
    """Who reports progress: the assigned region's own staff, or a supply company serving it."""
    if not user.has_perm("ledger.report_progress", assignment):
        raise PermissionDenied("只有责任区域或其供电企业可以报送这项任务的进展。")


def _reviewer(user, assignment, perm="ledger.review_progress"):
    """Who reviews (or, with ``ledger.press``, presses): officials of a region above the assigned one."""
    if not user.has_perm(perm, assignment):
        raise PermissionDenied("只有上级主管部门可以审阅或督办这项任务。")


@transaction.atomic
def progress_report(*, user, assignment, status, note, progress_on=None, uploads=(), expected_version=None, channel="web", today=None):
    """Report what was done: the new status, the note, the date and evidence files; kept in the history."""
    today = today or timezone.localdate()
    _reporter(user, assignment)
    assignment = Assignment.objects.select_for_update().select_related("region", "item__ledger").get(pk=assignment.pk)
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
    return update


@transaction.atomic
def progress_review(*, user, assignment, note, send_back=False, channel="web"):
    """A reviewer above comments, or sends the assignment back (it returns to 推进中) with the reason."""
    _reviewer(user, assignment)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["请填写审阅意见或退回原因。"]})
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    before = assignment.status
    if send_back:
        if before != AssignmentStatus.DONE:
            raise ValidationError({"note": ["只有报送为“已完成”的任务可以退回。"]})
        assignment.status, assignment.returned_reason = AssignmentStatus.IN_PROGRESS, note
        assignment.version += 1
        assignment.save()
    return _progress(
        assignment,
        user=user,
        kind=ProgressKind.RETURN if send_back else ProgressKind.COMMENT,
        before=before,
        after=assignment.status,
        note=note,
        channel=channel,
    )


@transaction.atomic
@transaction.atomic
def press(*, user, assignment, note, channel="web"):
    """督办: an official above presses the region; recorded, with its channel, and sent to the region's users."""
    _reviewer(user, assignment, "ledger.press")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["请填写督办意见。"]})
    pressing = Pressing(assignment=assignment, by=user, note=note, channel=channel)
    pressing.full_clean()
    pressing.save()
    for recipient in User.objects.people().filter(region=assignment.region):
        notify(
            user=recipient,
            level="red",
            title=f"督办：{assignment.item.ledger.name} 第 {assignment.item.number} 项",
            body=f"{note}（{person_name(user)}）",
            link=reverse("ledger:assignment", args=[assignment.pk]),
        )
    return pressing


def assignments_mark_overdue(*, today, due_soon_days=7):
    """The beat job: past-milestone assignments become 逾期, and their regions (and the due-soon
    ones) are told once per assignment and state. Returns (marked overdue, notified)."""
    open_states = [AssignmentStatus.NOT_STARTED, AssignmentStatus.IN_PROGRESS]
    late = list(Assignment.objects.filter(status__in=open_states, milestone__lt=today).select_related("item__ledger", "region"))
    soon = list(
        Assignment.objects.filter(
            status__in=open_states, milestone__gte=today, milestone__lte=today + timedelta(days=due_soon_days)
        ).select_related("item__ledger", "region")
    )
    with transaction.atomic():
        Assignment.objects.filter(pk__in=[a.pk for a in late]).update(status=AssignmentStatus.OVERDUE)
        ProgressUpdate.objects.bulk_create(
            ProgressUpdate(
                assignment=a,
                kind=ProgressKind.OVERDUE,
                status_before=a.status,
                status_after=AssignmentStatus.OVERDUE,
                channel="system",
                note=f"节点时间 {a.milestone:%Y-%m-%d} 已过",
            )
            for a in late
        )
    users = defaultdict(list)
    for u in User.objects.people().filter(region__in={a.region_id for a in late + soon}):
        users[u.region_id].append(u)
    notified = 0
    for assignment, overdue in [(a, True) for a in late] + [(a, False) for a in soon]:
        title = f"{'逾期' if overdue else '即将到期'}：{assignment.item.ledger.name} 第 {assignment.item.number} 项"
        for recipient in users[assignment.region_id]:
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
