"""Writes of the statistics tables: compile (one function for pages, API, Celery and commands),
confirm a snapshot, start a compile job, and the benefit figures of 附件3."""

import logging
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.changes import change_event, changes_record
from accounts.models import Company, Region
from accounts.scoping import Action
from indicators.models import Period
from indicators.selectors import program_get
from utilities import jobs
from utilities.models import JobKind, JobState

from . import excel, layout
from .breakdown import build_attachment3_breakdown
from .changes import build_changes
from .models import Benefit, ReportJob, ReportKind, ReportSnapshot
from .selectors import (
    attachment3_breakdown,
    attachment3_totals,
    changes_input,
    data_state,
    national_input,
    table_columns,
)
from .tables import BENEFIT_CATEGORIES, BENEFIT_MEASURES, attachment2_table, build_national_rollup, completion_table, table_header

logger = logging.getLogger(__name__)


def attachment2_compile(*, province, period, user=None, on=None):
    """附件2 of a province and period, from the data as it stands: the completion table of the
    national set (``tables.attachment2_table``, which refuses any other set)."""
    return attachment2_table(province=province, period=period, user=user, on=on)


def attachment3_compile(*, province, period, user=None, on=None):
    header = table_header(title=layout.attachment3_title(province.name), province=province, period=period, user=user, on=on)
    # The official table, with its breakdown by company and city for the workbook's second sheet.
    return build_attachment3_breakdown(
        header=header,
        totals=attachment3_totals(province=province, period=period),
        blocks=attachment3_breakdown(province=province, period=period),
        province_name=province.name,
    )


def national_compile(*, period):
    return build_national_rollup(
        period_code=period.code,
        period_line=period.span_label,
        columns=table_columns(period=period),
        provinces=national_input(period=period),
    )


def changes_periods(*, before, after, program=None):
    """The Periods coded ``before`` and ``after`` of ``program`` (None: the national one), checked
    comparable: both exist, ``before`` ends first, and they share an indicator set (numbers of
    different sets mean different indicators)."""
    program = program_get(program)
    found = {p.code: p for p in Period.objects.filter(program=program, code__in=[before, after])}
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
    previous = Period.objects.filter(program=period.program_id, ends__lt=period.ends).order_by("-ends").first()
    if previous is None or previous.indicator_set_id != period.indicator_set_id:
        return None
    return changes_compile(province=province, before=previous, after=period)


WRITERS = {
    ReportKind.ATTACHMENT2: (attachment2_compile, excel.attachment2_workbook),
    ReportKind.ATTACHMENT3: (attachment3_compile, excel.attachment3_workbook),
}
# With WRITERS, every table a program may compile, keyed as its ``tables`` name them
# (indicators.ProgramTable): a program other than the national one compiles its own completion table.
PROGRAM_WRITERS = {ReportKind.COMPLETION: (completion_table, excel.completion_workbook)}


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


SNAPSHOT = "snapshot.compiled"


def snapshot_compiled(*, snapshot, action, channel, user=None):
    """The change-feed event of a snapshot stored (``action`` compile) or confirmed (confirm); times
    in local time, as the API writes them."""
    period = snapshot.period
    return change_event(
        type=SNAPSHOT,
        object_url=reverse("api:report-snapshot-detail", args=[snapshot.pk]),
        region=snapshot.region,
        channel=channel,
        user=user,
        data={
            "id": snapshot.pk,
            "kind": snapshot.kind,
            "period": period.code,
            "program": period.program.code,
            "region": snapshot.region.code if snapshot.region_id else None,
            "created_at": timezone.localtime(snapshot.compiled_at).isoformat(),
            "action": action,
            "confirmed_at": timezone.localtime(snapshot.confirmed_at).isoformat() if snapshot.confirmed_at else None,
            "data_state": snapshot.data_state,
        },
    )


def report_compile(*, user, province, period, progress=None):
    """Compile a province's tables of ``period``'s program — the national 附件2 and 附件3, or a
    program's own completion table — (or, with no province, the national roll-up) as new snapshots.

    ``progress(percent, message)`` is told how far it got. The snapshots are written in one
    transaction at the end: a compile stopped half-way leaves none behind.
    """
    progress = progress or (lambda percent, message: None)
    if user is not None:
        _require_compiler(user, province)
    program = period.program
    if province is None and ReportKind.ATTACHMENT2 not in program.tables:
        raise ValidationError(f"方案“{program.name}”不编制附件2，没有全国汇总：请指定省份。")
    writers = [(kind, {**WRITERS, **PROGRAM_WRITERS}[kind]) for kind in program.tables]
    if not writers:
        raise ValidationError(f"方案“{program.name}”不编制统计表。")
    state = data_state(region=province, period=period)
    built = []
    if province is None:
        progress(10, "汇总各省数据")
        table = national_compile(period=period)
        built.append((ReportKind.NATIONAL, table, excel.national_workbook(table)))
    else:
        for step, (kind, (compile_table, write)) in enumerate(writers):
            progress(10 + 40 * step, f"编制{ReportKind(kind).label}")
            table = compile_table(province=province, period=period, user=user)
            progress(30 + 40 * step, f"生成{ReportKind(kind).label}的 Excel 文件")
            # A completion table's workbook carries an extra sheet comparing the period with the one before it.
            compares = kind in (ReportKind.ATTACHMENT2, ReportKind.COMPLETION)
            extra = {"changes": changes_since_previous(province=province, period=period)} if compares else {}
            built.append((kind, table, write(table, **extra)))
    progress(90, "保存报表快照")
    with transaction.atomic():
        snapshots = [
            _snapshot(kind=kind, region=province, period=period, table=table, workbook=workbook, state=state, user=user)
            for kind, table, workbook in built
        ]
        # Compiles run on a worker, by the beat or from a command: the system's, whoever asked.
        changes_record(snapshot_compiled(snapshot=s, action="compile", channel="system", user=user) for s in snapshots)
    progress(100, "编制完成")
    return snapshots


@transaction.atomic
def snapshot_confirm(*, user, snapshot, channel="web"):
    """An official confirms a reviewed snapshot: from then on it is never changed."""
    _require_compiler(user, snapshot.region)
    snapshot = ReportSnapshot.objects.select_for_update().get(pk=snapshot.pk)
    if snapshot.confirmed_at:
        raise ValidationError("该报表快照已经确认。")
    ReportSnapshot.objects.filter(pk=snapshot.pk).update(confirmed_at=timezone.now(), confirmed_by=user)
    snapshot.refresh_from_db()
    changes_record([snapshot_compiled(snapshot=snapshot, action="confirm", channel=channel, user=user)])
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


NO_COMPANY = "您的账号尚未关联供电企业，不能填报服务效益，请联系省级能源主管部门在后台设置“所属供电企业”。"
HALF_LABELS = {1: "上半年", 2: "下半年"}


def outside_area_message(company, region):
    return f"{region.name}不在{company.name}的供电服务区域内。"


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


BENEFIT = "benefit.changed"


def benefit_changed(*, benefit, channel, user=None):
    """The change-feed event of one figure row (a company's, for a region, half-year and category),
    as stored; ``saved_cost`` is the feed's name for 节省投资, ``investment`` the API's."""
    region = benefit.region
    stored = {measure: f"{Decimal(getattr(benefit, measure)):.{places}f}" for measure, _label, places in BENEFIT_MEASURES}
    return change_event(
        type=BENEFIT,
        object_url=reverse("api:benefit-sheet", kwargs={"region_code": region.code, "year": benefit.year, "half": benefit.half}),
        region=region,
        channel=channel,
        user=user,
        data={
            "company": benefit.company.code,
            "region": region.code,
            "year": benefit.year,
            "half": benefit.half,
            "category": benefit.category,
            "households": benefit.households,
            "saved_cost": stored["investment"],
            "investment": stored["investment"],
            "sales": stored["sales"],
            "capacity": stored["capacity"],
        },
    )


@transaction.atomic
def benefits_set(*, user, region, year, half, figures, channel="web"):
    """The figures of ``user``'s supply company for one region of its service area and half-year;
    ``figures`` maps (category, measure) → value.

    A company enters at its service area's one level (accounts.Company), so no figure is counted
    twice in the province table; a region outside the area is refused. All or nothing: every error
    is reported, keyed ``category-measure``, and nothing is stored.
    """
    if not user.has_perm("reporting.enter_benefits"):
        raise PermissionDenied("只有供电企业用户可以填报服务效益。")
    if not Region.objects.restrict(user, Action.CHANGE).filter(pk=region.pk).exists():
        raise PermissionDenied(f"“{region.name}”不在您的管辖范围内。")
    if user.company_id is None:
        raise PermissionDenied(NO_COMPANY)
    # Locked: two people of one company saving at once see each other's rows below.
    company = Company.objects.select_for_update().get(pk=user.company_id)
    if half not in (1, 2) or not 2000 <= year <= date.today().year + 1:
        raise ValidationError("年度或半年不正确。")
    if not company.serves(region):
        raise ValidationError(outside_area_message(company, region))
    other_level = (
        Benefit.objects.filter(company=company, year=year, half=half).exclude(region__level=region.level).select_related("region").first()
    )
    if other_level is not None:  # the service area changed level after figures were entered
        raise ValidationError(
            f"{company.name}{year}年{HALF_LABELS[half]}已在{other_level.region.get_level_display()}级（{other_level.region.name}）填报，"
            f"同一半年只能在一个层级填报，{region.name}是{region.get_level_display()}级。"
        )
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
    rows = []
    for category in categories:
        fields = {measure: values[(category, measure)] for measure, _l, _p in BENEFIT_MEASURES}
        fields["households"] = int(fields["households"])
        benefit, _ = Benefit.objects.update_or_create(
            company=company, region=region, year=year, half=half, category=category, defaults={**fields, "updated_by": user}
        )
        benefit.full_clean()
        benefit.company, benefit.region = company, region  # as checked above, not read again per row
        rows.append(benefit)
    changes_record(benefit_changed(benefit=b, channel=channel, user=user) for b in rows)
    return values
