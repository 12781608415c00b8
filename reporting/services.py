"""Writes of the statistics tables: compile (one function for pages, API, Celery and commands),
confirm a snapshot, start a compile job, and the benefit figures of 附件3."""

import logging
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Region, person_name
from accounts.scoping import Action
from indicators.models import Period
from indicators.signoff import exceptions_within
from utilities import jobs
from utilities.models import JobKind, JobState

from . import excel, layout
from .changes import build_changes
from .models import Benefit, ReportJob, ReportKind, ReportSnapshot
from .selectors import attachment2_input, attachment3_totals, changes_input, data_state, national_input, table_columns
from .tables import BENEFIT_CATEGORIES, BENEFIT_MEASURES, Header, build_attachment2, build_attachment3, build_national_rollup

logger = logging.getLogger(__name__)


def _header(*, title, province, period, user, on):
    contact = ""
    if user is not None:
        contact = " ".join(filter(None, [person_name(user), user.phone]))
    return Header(
        title=title,
        period_line=period.span_label,
        province_code=province.code if province else "",
        province_name=province.name if province else "全国",
        period_code=period.code,
        filled_by=contact,
        filled_on=f"{on.year}年{on.month}月{on.day}日",
    )


def attachment2_compile(*, province, period, user=None, on=None):
    """附件2 of a province and period, from the data as it stands."""
    columns, province_cells, cities = attachment2_input(province=province, period=period)
    header = _header(
        title=layout.attachment2_title(province.name), province=province, period=period, user=user, on=on or timezone.localdate()
    )
    # The counties the confirmation or a city's acceptance went without: marked in the table.
    exceptions = {e.county.code: e.reason for e in exceptions_within(province=province, period=period)}
    return build_attachment2(header=header, columns=columns, province_cells=province_cells, cities=cities, exceptions=exceptions)


def attachment3_compile(*, province, period, user=None, on=None):
    header = _header(
        title=layout.attachment3_title(province.name), province=province, period=period, user=user, on=on or timezone.localdate()
    )
    return build_attachment3(header=header, totals=attachment3_totals(province=province, period=period))


def national_compile(*, period):
    return build_national_rollup(
        period_code=period.code,
        period_line=period.span_label,
        columns=table_columns(period=period),
        provinces=national_input(period=period),
    )


def changes_periods(*, before, after):
    """The Periods coded ``before`` and ``after``, checked comparable: both exist, ``before`` ends
    first, and they share an indicator set (numbers of different sets mean different indicators)."""
    found = {p.code: p for p in Period.objects.filter(code__in=[before, after])}
    missing = [code or "（空）" for code in (before, after) if code not in found]
    if missing:
        raise ValidationError(f"报告期 {'、'.join(missing)} 不存在。")
    before, after = found[before], found[after]
    if before.ends >= after.ends:
        raise ValidationError(f"比较的前一报告期（{before.label}）必须早于后一报告期（{after.label}）结束。")
    if before.indicator_set_id != after.indicator_set_id:
        raise ValidationError(f"{before.label}与{after.label}使用不同的指标体系，无法逐项比较。")
    return before, after


def changes_compile(*, province, before, after):
    """What changed in ``province`` from Period ``before`` to Period ``after`` (see reporting.changes)."""
    return build_changes(**changes_input(province=province, before=before, after=after))


def changes_since_previous(*, province, period):
    """The changes since the period just before ``period``; None if there is none or it uses another set."""
    previous = Period.objects.filter(ends__lt=period.ends).order_by("-ends").first()
    if previous is None or previous.indicator_set_id != period.indicator_set_id:
        return None
    return changes_compile(province=province, before=previous, after=period)


WRITERS = {
    ReportKind.ATTACHMENT2: (attachment2_compile, excel.attachment2_workbook),
    ReportKind.ATTACHMENT3: (attachment3_compile, excel.attachment3_workbook),
}


def _require_compiler(user, region):
    if region is None:
        if not user.has_perm("reporting.compile_national"):
            raise PermissionDenied("只有国家能源局用户可以编制全国汇总。")
        return
    if not user.has_perm("reporting.compile_reports", region):
        raise PermissionDenied(f"您不能编制{region.name}的统计表。")


def _snapshot(*, kind, region, period, table, workbook, state, user):
    snapshot = ReportSnapshot(kind=kind, region=region, period=period, data=table.as_dict(), data_state=state, compiled_by=user)
    name = f"{kind}-{region.code if region else 'national'}-{period.code}-{timezone.now():%Y%m%d%H%M%S}.xlsx"
    snapshot.xlsx.save(name, ContentFile(workbook), save=False)
    snapshot.full_clean()
    snapshot.save()
    return snapshot


def report_compile(*, user, province, period, progress=None):
    """Compile a province's 附件2 and 附件3 (or, with no province, the national roll-up) as new snapshots.

    ``progress(percent, message)`` is told how far it got. The snapshots are written in one
    transaction at the end: a compile stopped half-way leaves none behind.
    """
    progress = progress or (lambda percent, message: None)
    if user is not None:
        _require_compiler(user, province)
    state = data_state(region=province, period=period)
    built = []
    if province is None:
        progress(10, "汇总各省数据")
        table = national_compile(period=period)
        built.append((ReportKind.NATIONAL, table, excel.national_workbook(table)))
    else:
        for step, (kind, (compile_table, write)) in enumerate(WRITERS.items()):
            progress(10 + 40 * step, f"编制{ReportKind(kind).label}")
            table = compile_table(province=province, period=period, user=user)
            progress(30 + 40 * step, f"生成{ReportKind(kind).label}的 Excel 文件")
            # 附件2's workbook carries an extra sheet comparing the period with the one before it.
            extra = {"changes": changes_since_previous(province=province, period=period)} if kind == ReportKind.ATTACHMENT2 else {}
            built.append((kind, table, write(table, **extra)))
    progress(90, "保存报表快照")
    with transaction.atomic():
        snapshots = [
            _snapshot(kind=kind, region=province, period=period, table=table, workbook=workbook, state=state, user=user)
            for kind, table, workbook in built
        ]
    progress(100, "编制完成")
    return snapshots


@transaction.atomic
def snapshot_confirm(*, user, snapshot):
    """An official confirms a reviewed snapshot: from then on it is never changed."""
    _require_compiler(user, snapshot.region)
    snapshot = ReportSnapshot.objects.select_for_update().get(pk=snapshot.pk)
    if snapshot.confirmed_at:
        raise ValidationError("该报表快照已经确认。")
    ReportSnapshot.objects.filter(pk=snapshot.pk).update(confirmed_at=timezone.now(), confirmed_by=user)
    snapshot.refresh_from_db()
    return snapshot


def report_job_start(*, user, province, period):
    """Queue a compile on a Celery worker; the returned job reports its progress."""
    _require_compiler(user, province)
    from .tasks import compile_reports  # the task module imports these services

    with transaction.atomic():
        job = ReportJob(job=jobs.create(kind=JobKind.REPORT, region=province, user=user), period=period)
        job.full_clean()
        job.save()
        transaction.on_commit(lambda: _enqueue(compile_reports, job.pk))
    return job


QUEUE_UNAVAILABLE = "任务队列暂不可用，请稍后重试。"


def _enqueue(task, job_pk):
    """Hand the job to the broker; a broker that is down fails the job with a clear message instead
    of the page (the job row is already committed, so the page shows its state)."""
    from kombu.exceptions import OperationalError as BrokerError

    try:
        task.delay(job_pk)
    except BrokerError as exc:
        logger.warning("报表编制任务 %s 无法入队：%s", job_pk, exc)
        jobs.fail(ReportJob.objects.get(pk=job_pk).job_id, message=QUEUE_UNAVAILABLE)


def report_job_run(*, job_id):
    """Run a queued job (called by the Celery task): progress, snapshots and the outcome on the job."""
    job = ReportJob.objects.select_related("job__region", "job__created_by", "period").get(pk=job_id)
    if job.state == JobState.DONE:
        return job
    ReportJob.objects.filter(pk=job.pk).update(attempts=job.attempts + 1)
    jobs.start(job.job_id, message="开始编制")

    def progress(percent, message):
        jobs.progress(job.job_id, percent, message)

    try:
        snapshots = report_compile(user=job.created_by, province=job.region, period=job.period, progress=progress)
    except Exception as exc:
        jobs.fail(job.job_id, message=f"编制失败：{exc}")
        raise
    with transaction.atomic():
        job.snapshots.set(snapshots)
        jobs.finish(job.job_id, message="编制完成")
    job.refresh_from_db()
    return job


def _decimal(value, *, places, label):
    try:
        number = Decimal(str(value).strip() or "0")
    except InvalidOperation:
        raise ValueError(f"{label}“{value}”不是数字。") from None
    if number < 0:
        raise ValueError(f"{label}不能为负数。")
    if places == 0 and number != number.to_integral_value():
        raise ValueError(f"{label}必须是整数。")
    if number.as_tuple().exponent < -places:
        raise ValueError(f"{label}最多保留 {places} 位小数。")
    return number


@transaction.atomic
def benefits_set(*, user, region, year, half, figures):
    """A supply company's figures for its area and half-year; ``figures`` maps (category, measure) → value.

    All or nothing: every error is reported, keyed ``category-measure``, and nothing is stored.
    """
    if not user.has_perm("reporting.enter_benefits"):
        raise PermissionDenied("只有供电企业用户可以填报服务效益。")
    if not Region.objects.restrict(user, Action.CHANGE).filter(pk=region.pk).exists():
        raise PermissionDenied(f"“{region.name}”不在您的管辖范围内。")
    if half not in (1, 2) or not 2000 <= year <= date.today().year + 1:
        raise ValidationError("年度或半年不正确。")
    categories = dict(BENEFIT_CATEGORIES)
    errors, values = {}, {}
    for category, category_label in BENEFIT_CATEGORIES:
        for measure, measure_label, places in BENEFIT_MEASURES:
            label = f"{category_label}的{measure_label}"
            try:
                values[(category, measure)] = _decimal(figures.get((category, measure), 0), places=places, label=label)
            except ValueError as exc:
                errors[f"{category}-{measure}"] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    for category in categories:
        fields = {measure: values[(category, measure)] for measure, _l, _p in BENEFIT_MEASURES}
        fields["households"] = int(fields["households"])
        benefit, _ = Benefit.objects.update_or_create(
            region=region, year=year, half=half, category=category, defaults={**fields, "updated_by": user}
        )
        benefit.full_clean()
    return values
