"""The review flow on submissions: a county returned or approved, a city accepted, a province
confirmed (locking the period) or reopened — each with its audit entry and named exceptions.

The same rules as indicators.services: keyword-only arguments, scope and policy checked, one
transaction, an audit entry per step. Pages, the API and the demo call these.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from accounts.changes import changes_record
from accounts.models import Region
from utilities.errors import WrongState

from .changes import exception_named, submission_changed
from .models import AuditAction, Channel, SignoffException, Submission, SubmissionState
from .services import _audit, _ensure_unlocked, _in_scope, _move, _require, _submission, missing_entries
from .signoff import open_counties

# The code of a sign-off refused for counties neither approved nor named: a page that lists those
# counties itself (per city, with the form to name them) need not repeat the list in one paragraph.
UNNAMED = "unnamed_counties"


def _review_county(*, user, region, period, channel, to_state, allowed_from, action, reason=""):
    if region.level != "county":
        raise ValidationError({"region": "只能审核县级数据。"})
    _in_scope(user, region)
    _require(user, "indicators.review_county", "审核县级数据", region)
    submission = _submission(region, period)
    _ensure_unlocked(region, period)
    if submission.state not in allowed_from:
        raise WrongState(f"{region.name}{period.label}当前为“{submission.get_state_display()}”，不能{AuditAction(action).label}。")
    before = submission.get_state_display()
    _move(submission, user=user, state=to_state, reason=reason)
    _audit(
        user=user,
        channel=channel,
        action=action,
        region=region,
        period=period,
        before=before,
        after=submission.get_state_display(),
        reason=reason,
    ).save()
    events = [submission_changed(submission=submission, region=region, period=period, action=action, channel=channel, user=user)]
    if to_state == SubmissionState.RETURNED:
        # A county sent back takes its city's acceptance, and the exceptions it named, with it —
        # unless the acceptance went without that county (named an exception): then it stands.
        city = _submission(region.parent, period)
        if city.state == SubmissionState.ACCEPTED and not city.exceptions.filter(county=region).exists():
            _move(city, user=user, state=SubmissionState.DRAFT, reason=f"{region.name}被退回")
            city.exceptions.all().delete()  # the accept's audit entry keeps them
            events.append(
                submission_changed(submission=city, region=region.parent, period=period, action=action, channel=channel, user=user)
            )
    changes_record(events)
    return submission


@transaction.atomic
def county_return(*, user, region, period, reason, channel=Channel.WEB):
    """退回 with a reason: the county can edit again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "退回时必须填写原因。"})
    return _review_county(
        user=user,
        region=region,
        period=period,
        channel=channel,
        to_state=SubmissionState.RETURNED,
        allowed_from=(SubmissionState.SUBMITTED, SubmissionState.APPROVED),
        action=AuditAction.RETURN,
        reason=reason,
    )


@transaction.atomic
def county_approve(*, user, region, period, channel=Channel.WEB):
    return _review_county(
        user=user,
        region=region,
        period=period,
        channel=channel,
        to_state=SubmissionState.APPROVED,
        allowed_from=(SubmissionState.SUBMITTED,),
        action=AuditAction.APPROVE,
    )


def _exceptions_build(*, user, submission, exceptions, nameable, refuse):
    """SignoffException rows for ``exceptions`` ({county Region: reason}) of ``submission``, each
    checked; and the errors, keyed by county code. ``nameable``: the counties that may be named (not
    approved, under the signed region); ``refuse(county)`` says why another county under it may not."""
    rows, errors = [], {}
    for county, reason in sorted(exceptions.items(), key=lambda item: item[0].code):
        row = SignoffException(submission=submission, county=county, reason=(reason or "").strip(), named_by=user)
        problems = []
        if len(row.reason) > 500:
            problems.append(f"{county.name}：例外原因不能超过 500 字（现有 {len(row.reason)} 字）。")
        try:
            # The foreign keys are the objects given, not ids to look up again (one query each).
            row.full_clean(exclude=["submission", "county", "named_by", "reason"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            problems += [m if field == "county" else f"{county.name}：{m}" for field, ms in exc.message_dict.items() for m in ms]
        if not problems and county.pk not in nameable:
            problems.append(refuse(county))
        if problems:
            errors[county.code] = problems
        rows.append(row)
    return rows, errors


def _exceptions_save(*, user, channel, action, region, period, submission, rows, before, after):
    """The sign-off's move, its exceptions and its audit entry, whose reason lists the exceptions."""
    _move(submission, user=user, state=after)
    SignoffException.objects.bulk_create(rows)
    named = "；".join(f"{row.county.name}（{row.reason}）" for row in rows)
    reason = f"例外：{named}" if rows else ""
    if len(reason) > 500:  # AuditEntry.reason's length: the rows themselves keep every word
        reason = f"{reason[:480]}…（共 {len(rows)} 个县）"
    _audit(
        user=user, channel=channel, action=action, region=region, period=period, before=before.label, after=after.label, reason=reason
    ).save()
    changes_record(
        [
            submission_changed(
                submission=submission, region=region, period=period, action=action, channel=channel, user=user, exceptions=rows
            ),
            *(exception_named(exception=row, signed=region, period=period, action=action, channel=channel, user=user) for row in rows),
        ]
    )


@transaction.atomic
def city_accept(*, user, region, period, exceptions=None, channel=Channel.WEB):
    """The province accepts a city once every one of its counties is approved or named an exception.

    ``exceptions`` maps a county of the city not yet approved to the reason it is accepted without
    it; the exceptions are stored with the acceptance and listed in its audit entry.
    """
    if region.level != "city":
        raise ValidationError({"region": "只能接收地市。"})
    _in_scope(user, region)
    _require(user, "indicators.accept_city", "接收地市数据", region)
    submission = _submission(region, period)
    _ensure_unlocked(region, period)
    if submission.state == SubmissionState.ACCEPTED:
        raise WrongState(f"{region.name}{period.label}已经接收。")
    pending = {county.pk: county for county in open_counties(within=region, period=period)}
    rows, errors = _exceptions_build(
        user=user,
        submission=submission,
        exceptions=exceptions or {},
        nameable=pending,
        refuse=lambda county: f"{county.name}已经市级审核通过，不能列为例外。",
    )
    named = {row.county.pk for row in rows}
    unnamed = [county.name for pk, county in pending.items() if pk not in named]
    if unnamed:
        errors[NON_FIELD_ERRORS] = [
            ValidationError(
                f"{region.name}尚有 {len(unnamed)} 个县未经市级审核：{'、'.join(unnamed)}。请待其审核通过，或将其列为例外并写明原因。",
                code=UNNAMED,
            )
        ]
    if errors:
        raise ValidationError(errors)
    _exceptions_save(
        user=user,
        channel=channel,
        action=AuditAction.ACCEPT,
        region=region,
        period=period,
        submission=submission,
        rows=rows,
        before=SubmissionState.DRAFT,
        after=SubmissionState.ACCEPTED,
    )
    return submission


@transaction.atomic
def period_confirm(*, user, region, period, exceptions=None, channel=Channel.WEB, today=None):
    """省级确认: every city accepted, or each of its counties not approved named an exception (the
    city stays as it is); the province indicators filled. Locks the province's period, except for
    the counties named."""
    if region.level != "province":
        raise ValidationError({"region": "只能确认省级数据。"})
    _in_scope(user, region)
    _require(user, "indicators.confirm_province", "确认本省数据", region)
    submission = _submission(region, period)
    if submission.state == SubmissionState.CONFIRMED:
        _ensure_unlocked(region, period)
    accepted = set(
        Submission.objects.filter(region__parent=region, period=period, state=SubmissionState.ACCEPTED).values_list("region_id", flat=True)
    )
    counties = list(open_counties(within=region, period=period))
    nameable = {county.pk: county for county in counties if county.parent_id not in accepted}
    rows, errors = _exceptions_build(
        user=user,
        submission=submission,
        exceptions=exceptions or {},
        nameable=nameable,
        refuse=lambda county: (
            f"{county.name}所属的{county.parent.name}已经接收，不能在省级确认时列为例外。"
            if county.parent_id in accepted
            else f"{county.name}已经市级审核通过，不能列为例外。"
        ),
    )
    named = {row.county.pk for row in rows}
    unnamed = [f"{county.parent.name}{county.name}" for pk, county in nameable.items() if pk not in named]
    open_cities = {county.parent_id for county in counties}
    ready = list(Region.objects.filter(parent=region).exclude(pk__in=accepted | open_cities).values_list("name", flat=True))
    missing, _passed = missing_entries(region=region, period=period, today=today)
    problems = []
    if ready:
        problems.append(f"以下地市的县均已审核，请先接收：{'、'.join(ready)}。")
    if unnamed:
        cities = {county.parent_id for county in nameable.values() if county.pk not in named}
        problems.append(
            ValidationError(
                f"尚有 {len(cities)} 个地市未接收，其中以下县未经市级审核，也未列为例外：{'、'.join(unnamed)}。"
                "请先接收这些地市，或将这些县列为例外并写明原因。",
                code=UNNAMED,
            )
        )
    if missing:
        problems.append(f"省级指标尚未填写：{'、'.join(missing)}。")
    if problems:
        errors[NON_FIELD_ERRORS] = problems
    if errors:
        raise ValidationError(errors)
    _exceptions_save(
        user=user,
        channel=channel,
        action=AuditAction.CONFIRM,
        region=region,
        period=period,
        submission=submission,
        rows=rows,
        before=SubmissionState.DRAFT,
        after=SubmissionState.CONFIRMED,
    )
    return submission


@transaction.atomic
def period_reopen(*, user, region, period, reason, channel=Channel.WEB):
    """重新开放 with a reason: the province's period can be corrected again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "重新开放时必须填写原因。"})
    if region.level != "province":
        raise ValidationError({"region": "只能重新开放省级数据。"})
    _in_scope(user, region)
    _require(user, "indicators.reopen_province", "重新开放本省数据", region)
    submission = _submission(region, period)
    if submission.state != SubmissionState.CONFIRMED:
        raise WrongState(f"{region.name}{period.label}尚未确认，无需重新开放。")
    _move(submission, user=user, state=SubmissionState.DRAFT, reason=reason)
    submission.exceptions.all().delete()  # the confirm's audit entry keeps them
    _audit(
        user=user,
        channel=channel,
        action=AuditAction.REOPEN,
        region=region,
        period=period,
        before=SubmissionState.CONFIRMED.label,
        after=SubmissionState.DRAFT.label,
        reason=reason,
    ).save()
    changes_record(
        [submission_changed(submission=submission, region=region, period=period, action=AuditAction.REOPEN, channel=channel, user=user)]
    )
    return submission
