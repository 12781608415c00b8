"""Writes on check-marks and the review flow.

Every write: keyword-only arguments, the user's role and region scope checked, the period lock
and the review state checked, values validated all-or-nothing, one transaction, an AuditEntry per
change with its channel and its change-feed event (indicators.changes). Pages, the API, imports and
commands all call these.
"""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from accounts.changes import changes_record
from accounts.models import Region, person_name
from accounts.scoping import Action, ensure_in_scope
from utilities.errors import PeriodLocked, StaleVersion, WrongState
from utilities.hashchain import chain_append

from .blocking import region_missing
from .cells import cell_description
from .changes import checkmark_changed, submission_changed
from .evidence import DEFAULT_MAX_BYTES, validate_upload
from .models import (
    AuditAction,
    AuditEntry,
    Channel,
    Checkmark,
    CheckmarkStatus,
    Evidence,
    Indicator,
    Period,
    Program,
    Submission,
    SubmissionState,
    month_label,
)
from .periods import parse_period
from .programs import program_get
from .promises import promises_record
from .signoff import province_lock


@dataclass(frozen=True)
class CheckmarkValue:
    """What a form, an API body or an imported cell says about one indicator."""

    status: str
    done_month: date | None = None
    expected_month: date | None = None
    note: str = ""


def _today():
    return timezone.localdate()


def _describe(status, done_month, expected_month, indicator):
    """A check-mark as the audit trail writes it (“√ 2022年3月”, “预计 2022年12月”)."""
    return cell_description(
        status=status, done_month=done_month, expected_month=expected_month, level=indicator.level, encouraging=indicator.encouraging
    )


def _in_scope(user, region, action=Action.CHANGE):
    ensure_in_scope(user, region, action, message=f"“{region.name}”不在您的管辖范围内。")


def _require(user, perm, doing, obj=None):
    """The policy's answer (accounts.policy) to ``perm``, or the refusal naming the user's role."""
    if not user.has_perm(perm, obj):
        raise PermissionDenied(f"{user.get_role_display()}不能{doing}。")


def _submission(region, period):
    """The region's Submission, locked for the rest of the transaction."""
    submission, _ = Submission.objects.select_for_update().get_or_create(region=region, period=period)
    submission.region = region  # the object checked in scope, not read again by the policy
    return submission


def _ensure_unlocked(region, period):
    lock = province_lock(region=region, period=period)  # one query; a county named an exception is not locked
    if lock:
        province = lock.region
        raise PeriodLocked(
            f"{province.name}{period.label}数据已由{person_name(lock.state_changed_by)}于"
            f"{timezone.localtime(lock.state_changed_at):%Y-%m-%d %H:%M}确认锁定，不能修改；如需更正，请联系省级重新开放。"
        )


def _audit(*, user, channel, action, region, period, indicator=None, before="", after="", reason=""):
    return AuditEntry(
        user=user if user and user.is_authenticated else None,
        channel=Channel(channel),
        action=action,
        region=region,
        period=period,
        indicator=indicator,
        before=before,
        after=after,
        reason=reason,
    )


def _move(submission, *, user, state, reason=""):
    submission.state = state
    submission.reason = reason
    submission.state_changed_at = timezone.now()
    submission.state_changed_by = user
    submission.full_clean()
    submission.save()


@transaction.atomic
def period_open(*, code, program=None, channel=Channel.SYSTEM, user=None):
    """Open a period of ``program`` (a Program, its code, or None for the national one) on the
    program's indicator set; every region starts from its last state in the program's previous
    period — never another program's, whose indicators are other ones.

    Checkmarks are copied in batches (a fixed number of queries per 2,000 rows).
    """
    span = parse_period(code)
    if not isinstance(program, Program):
        program = program_get(program)
    if program.indicator_set_id is None:
        raise ValidationError({"program": f"方案“{program.name}”（{program.code}）没有指标体系，只有台账：不开放报告期。"})
    # Locked: two concurrent opens of one program wait for each other, the second is refused.
    Program.objects.select_for_update().get(pk=program.pk)
    if Period.objects.filter(program=program, code=span.code).exists():
        raise ValidationError({"code": f"方案“{program.name}”的报告期 {span.code} 已经开放。"})
    indicator_set = program.indicator_set
    period = Period(
        program=program,
        code=span.code,
        year=span.year,
        kind=span.kind,
        starts=span.starts,
        ends=span.ends,
        deadline=span.deadline,
        indicator_set=indicator_set,
    )
    period.full_clean()
    period.save()
    previous = Period.objects.filter(program=program, ends__lt=period.ends).exclude(pk=period.pk).order_by("-ends").first()
    if previous is None:
        return period, 0
    rows = (
        Checkmark.objects.filter(period=previous, indicator__indicator_set=indicator_set)
        .select_related("region", "indicator")
        .iterator(chunk_size=2000)
    )
    batch, copied = [], 0
    for row in rows:
        batch.append(
            Checkmark(
                period=period,
                region=row.region,
                indicator=row.indicator,
                status=row.status,
                done_month=row.done_month,
                expected_month=row.expected_month,
                note=row.note,
            )
        )
        if len(batch) == 2000:
            copied, batch = copied + _carry(batch, period=period, channel=channel, user=user), []
    copied += _carry(batch, period=period, channel=channel, user=user)
    provinces = Region.objects.filter(level="province").filter(
        Exists(Checkmark.objects.filter(period=period, region__path__startswith=OuterRef("path")))
    )
    chain_append(
        _audit(
            user=user,
            channel=channel,
            action=AuditAction.CARRY,
            region=province,
            period=period,
            after=f"承接{previous.label}（{previous.code}）的填报",
        )
        for province in provinces
    )
    return period, copied


def _carry(batch, *, period, channel, user):
    """Store a batch of carried check-marks and their events; the new period has no files, no version."""
    Checkmark.objects.bulk_create(batch)
    changes_record(
        checkmark_changed(
            checkmark=c, region=c.region, indicator=c.indicator, period=period, evidence=0, version=0, channel=channel, user=user
        )
        for c in batch
    )
    return len(batch)


def _check_writer(user, region, period, submission):
    """Who may write a region's check-marks, and in which review state."""
    if region.level == "county":
        _require(user, "indicators.fill_county_sheet", "填报县级指标")
        # The same rule with the submission: a county writes only while its data is open to it.
        if not user.has_perm("indicators.fill_county_sheet", submission):
            raise WrongState(f"{region.name}{period.label}的数据已{submission.get_state_display()}，不能再修改；如需更正，请联系地市退回。")
    elif region.level == "province":
        _require(user, "indicators.fill_province_sheet", "填报省级指标", submission)
    else:
        raise ValidationError({"region": "指标只能由县或省填报。"})


def _validate_values(values, indicators, region, today):
    errors = {}
    for number, value in values.items():
        indicator = indicators.get(number)
        label = indicator.label if indicator else str(number)
        if indicator is None:
            errors[str(number)] = [f"指标 {number} 不是本期{region.get_level_display()}级指标。"]
            continue
        problems = []
        if value.status not in ("", *CheckmarkStatus.values):
            problems.append(f"完成情况“{value.status}”无效。")
        if indicator.encouraging and value.status == CheckmarkStatus.NOT_DONE:
            problems.append("鼓励性指标只能填“已开展”或留空。")
        if value.status == CheckmarkStatus.DONE and value.done_month and value.done_month > today.replace(day=1):
            problems.append(f"完成月份 {month_label(value.done_month)} 晚于本月。")
        if len(value.note) > 500:
            problems.append("备注不能超过 500 字。")
        if problems:
            errors[label] = [f"指标 {label}：{p}" for p in problems]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def checkmarks_set(*, user, region, period, values, expected_version=None, channel=Channel.WEB, today=None, reasons=None):
    """Set some or all of a region's check-marks for a period; all or nothing.

    ``values`` maps indicator numbers to CheckmarkValue. ``expected_version`` is the version the
    form or client read; when the region's data changed since, nothing is written (StaleVersion).
    ``reasons`` maps numbers to why a value was set (a √ taken from another program names its source).
    Returns the Submission with its new version and the number of check-marks changed.
    """
    today = today or _today()
    _in_scope(user, region)
    submission = _submission(region, period)
    _ensure_unlocked(region, period)
    _check_writer(user, region, period, submission)
    if expected_version is not None and expected_version != submission.version:
        raise StaleVersion(
            f"{region.name}的数据已被{person_name(submission.updated_by)}于"
            f"{timezone.localtime(submission.updated_at):%H:%M:%S}修改，您看到的不是最新内容。{STALE_TAIL}"
        )
    indicators = {i.number: i for i in Indicator.objects.filter(indicator_set=period.indicator_set_id, level=region.level)}
    _validate_values(values, indicators, region, today)
    existing = {
        c.indicator_id: c
        for c in Checkmark.objects.select_for_update().filter(
            region=region, period=period, indicator__in=[indicators[n].pk for n in values]
        )
    }
    entries, changed, created = [], [], []
    now = timezone.now()
    for number, value in sorted(values.items()):
        indicator = indicators[number]
        checkmark = existing.get(indicator.pk) or Checkmark(region=region, period=period, indicator=indicator)
        # The related rows were read above: cached, clean() reads them without a query per check-mark.
        checkmark.region, checkmark.period, checkmark.indicator = region, period, indicator
        before = _describe(checkmark.status, checkmark.done_month, checkmark.expected_month, indicator), checkmark.note
        checkmark.status, checkmark.note = value.status, value.note
        checkmark.done_month = value.done_month if value.status == CheckmarkStatus.DONE else None
        checkmark.expected_month = value.expected_month if value.status == CheckmarkStatus.NOT_DONE else None
        # The foreign keys are the objects checked above, not ids to look up again (one query each).
        checkmark.full_clean(exclude=["region", "period", "indicator", "updated_by"], validate_unique=False, validate_constraints=False)
        after = _describe(checkmark.status, checkmark.done_month, checkmark.expected_month, indicator), checkmark.note
        if checkmark.pk and before == after:
            continue
        if not checkmark.pk and not value.status and not value.note:
            continue  # an untouched blank row: nothing to store
        checkmark.updated_by, checkmark.updated_at = user, now
        (changed if checkmark.pk else created).append(checkmark)
        entries.append(
            _audit(
                user=user,
                channel=channel,
                action=AuditAction.SET,
                region=region,
                period=period,
                indicator=indicator,
                before=" ".join(filter(None, before)),
                after=" ".join(filter(None, after)),
                reason=(reasons or {}).get(number, ""),
            )
        )
    # One statement each, whatever the number of indicators written (bulk_update skips auto_now: set above).
    Checkmark.objects.bulk_update(changed, ["status", "done_month", "expected_month", "note", "updated_by", "updated_at"])
    Checkmark.objects.bulk_create(created)
    # A new or moved expected month is a promise (issue 8 §3): at most two more statements.
    promises_record(checkmarks=changed + created, user=user, channel=channel)
    if entries:
        chain_append(entries)
        submission.version += 1
        submission.updated_by = user
        submission.save()
        files = dict(
            Evidence.objects.filter(checkmark__in=changed).values("checkmark").annotate(n=Count("pk")).values_list("checkmark", "n")
        )
        changes_record(
            checkmark_changed(
                checkmark=c,
                region=region,
                indicator=c.indicator,
                period=period,
                evidence=files.get(c.pk, 0),
                version=submission.version,
                channel=channel,
                user=user,
            )
            for c in changed + created
        )
    return submission, len(entries)


def missing_entries(*, region, period, today=None):
    """What stops a submission: indicators not filled, and expected months already passed."""
    return region_missing(region=region, period=period, today=today or _today())


@transaction.atomic
def county_submit(*, user, region, period, channel=Channel.WEB, today=None):
    """上报: refused, with the list of what is missing, until every county indicator is filled."""
    _in_scope(user, region)
    _require(user, "indicators.submit", "上报县级数据", region)
    submission = _submission(region, period)
    _ensure_unlocked(region, period)
    if submission.state not in (SubmissionState.DRAFT, SubmissionState.RETURNED):
        raise WrongState(f"{region.name}{period.label}的数据已{submission.get_state_display()}，不能重复上报。")
    missing, passed = missing_entries(region=region, period=period, today=today)
    problems = []
    if missing:
        problems.append(f"以下指标尚未填写完整：{'、'.join(missing)}。")
    if passed:
        problems.append(f"以下指标的预计完成月份已过，请更新：{'、'.join(passed)}。")
    if problems:
        raise ValidationError(problems)
    _move(submission, user=user, state=SubmissionState.SUBMITTED)
    _audit(
        user=user,
        channel=channel,
        action=AuditAction.SUBMIT,
        region=region,
        period=period,
        before=SubmissionState.DRAFT.label,
        after=SubmissionState.SUBMITTED.label,
    ).save()
    changes_record(
        [submission_changed(submission=submission, region=region, period=period, action=AuditAction.SUBMIT, channel=channel, user=user)]
    )
    return submission


@transaction.atomic
def evidence_add(*, user, region, period, number, upload, channel=Channel.WEB, max_bytes=DEFAULT_MAX_BYTES):
    """Attach a supporting file to a check-mark; the file is checked by its content."""
    _in_scope(user, region)
    submission = _submission(region, period)
    _ensure_unlocked(region, period)
    _check_writer(user, region, period, submission)
    indicator = Indicator.objects.filter(indicator_set=period.indicator_set_id, level=region.level, number=number).first()
    if indicator is None:
        raise ValidationError({str(number): [f"指标 {number} 不是本期{region.get_level_display()}级指标。"]})
    try:
        kind = validate_upload(upload, max_bytes=max_bytes)
    except ValidationError as exc:
        raise ValidationError({indicator.label: exc.messages}) from exc
    checkmark, _ = Checkmark.objects.get_or_create(region=region, period=period, indicator=indicator)
    evidence = Evidence.from_upload(upload, kind=kind, checkmark=checkmark, uploaded_by=user)
    evidence.full_clean()
    evidence.save()
    _audit(
        user=user, channel=channel, action=AuditAction.EVIDENCE, region=region, period=period, indicator=indicator, after=upload.name
    ).save()
    submission.version += 1
    submission.updated_by = user
    submission.save()
    changes_record(
        [
            checkmark_changed(
                checkmark=checkmark,
                region=region,
                indicator=indicator,
                period=period,
                evidence=checkmark.evidence.count(),
                version=submission.version,
                channel=channel,
                user=user,
            )
        ]
    )
    return evidence


ANY_VERSION = "*"  # the API's If-Match: * — the client overwrites on purpose, no version check
STALE_TAIL = "您填写的内容尚未保存：请刷新页面核对后再保存。"


@dataclass(frozen=True)
class SheetSaved:
    """What sheet_save did: the region's Submission as it now stands, the number of check-marks
    changed, the Evidence stored, whether it was submitted, and why a submit asked for was refused."""

    submission: Submission
    changed: int
    evidence: tuple = ()
    submitted: bool = False
    submit_refused: tuple = ()


@transaction.atomic
def sheet_save(
    *, user, region, period, values, files=(), expected_version, submit=False, channel=Channel.WEB, today=None, max_bytes=DEFAULT_MAX_BYTES
):
    """Save a county's (or the province's) sheet in one transaction: check-marks, evidence files and,
    if asked, the submit.

    ``values`` maps indicator numbers to CheckmarkValue: only the indicators sent; one left out is
    unchanged. ``files`` is a list of (indicator number, upload). ``expected_version`` is the version
    the form or client read; a form without one (None) is refused like a stale form, as it cannot
    show it saw the latest data; ANY_VERSION overwrites on purpose. A bad value or file, a stale
    version, a lock: nothing is stored. A submit refused for what is still missing leaves the save
    standing (the clerk's work is kept) and is told in ``submit_refused``.
    """
    # Scope is checkmarks_set's first question, inside this transaction.
    if expected_version is None:
        raise StaleVersion(f"无法确认您看到的是{region.name}的最新内容（表单缺少版本号）。{STALE_TAIL}")
    submission, changed = checkmarks_set(
        user=user,
        region=region,
        period=period,
        values=values,
        channel=channel,
        today=today,
        expected_version=None if expected_version == ANY_VERSION else expected_version,
    )
    evidence, submitted, refused = [], False, ()
    try:
        for number, upload in files:
            evidence.append(
                evidence_add(
                    user=user,
                    region=region,
                    period=period,
                    number=number,
                    upload=upload,
                    channel=channel,
                    max_bytes=max_bytes,
                )
            )
        if submit:
            try:
                county_submit(user=user, region=region, period=period, channel=channel, today=today)  # its own savepoint
                submitted = True
            except ValidationError as exc:
                refused = tuple(exc.messages)
    except BaseException:
        # The rows roll back with the transaction; the files already written would stay behind.
        for item in evidence:
            item.file.delete(save=False)
        raise
    if evidence or submitted:
        submission.refresh_from_db()  # the files and the submit moved it on
    return SheetSaved(submission, changed, tuple(evidence), submitted, refused)
