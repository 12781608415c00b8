"""The writes: ``applications_upload`` (a small file is read at once, a large one queued for a
Celery worker) and ``applications_batch_run`` (what the worker runs). A batch read without error
replaces the county's records of the period, all or nothing; its progress and outcome are its
Job's, changed through ``utilities.jobs`` like every background job's."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse

from accounts.models import RegionLevel
from accounts.notifications import notify
from utilities import jobs
from utilities.errors import ConflictError
from utilities.excel import ImportFileError, read_bytes
from utilities.formatting import file_size_label
from utilities.models import JobKind, JobState

from ..models import Application, ApplicationBatch, AuditAction, Channel
from ..services import _audit, _ensure_unlocked, _in_scope, _require, _submission
from .layout import DOCUMENT, INLINE_ROWS
from .reading import read_records

MAX_BYTES = 64 * 1024 * 1024  # 200,000 rows are about 20 MB as .xlsx, 40 MB as CSV
INSERT_CHUNK = 2000


def _check_uploader(user, region, period):
    """Who may replace a county's records: its county staff and the supply companies over it, in
    scope, while the province has not confirmed (locked) the period."""
    _require(user, "indicators.upload_applications", "上传报装记录")
    if region.level != RegionLevel.COUNTY:
        raise ValidationError({"region": "报装记录按县上传：请选择一个县。"})
    _in_scope(user, region)
    _ensure_unlocked(region, period)


def applications_upload(*, user, region, period, upload, max_rows=None):
    """Upload a county's application records of a period.

    The header is checked at once. A file of up to INLINE_ROWS rows is read at once and, without
    error, replaces the county's records of the period (ImportFileError otherwise, and nothing is
    stored); a larger one is kept and queued for a Celery worker (``applications_batch_run``),
    whose progress and outcome the returned batch reports.
    """
    _check_uploader(user, region, period)
    max_rows = max_rows or settings.APPLICATION_MAX_ROWS
    if upload.size > MAX_BYTES:  # said here: read_bytes' own message calls the file a form of some KB
        raise ImportFileError([f"文件“{upload.name}”大小 {file_size_label(upload.size)}，超过上限 {file_size_label(MAX_BYTES)}。"])
    name, data = read_bytes(upload, MAX_BYTES, document=DOCUMENT)
    records = read_records(name, data, max_rows=max_rows, at_most=INLINE_ROWS)
    with transaction.atomic():
        queued = "已排队，等待后台导入" if records is None else ""
        job = jobs.create(kind=JobKind.APPLICATIONS, region=region, user=user, message=queued)
        batch = ApplicationBatch(job=job, period=period, file_name=name)
        batch.file.save(name, ContentFile(data), save=False)
        batch.full_clean()
        batch.save()
        if records is not None:
            jobs.start(job)
            _replace(batch=batch, user=user, records=records)
            return batch
        from ..tasks import (
            read_application_batch,  # the task module imports these services
        )

        transaction.on_commit(lambda: read_application_batch.delay(batch.pk))
    return batch


def applications_batch_run(*, batch_id, max_rows=None):
    """Read a queued batch (called by the Celery task) and replace the county's records with it.

    A file with errors, a user no longer allowed or a locked period leave the records as they were
    and the batch ``failed`` with the messages; the uploader is notified either way.
    """
    batch = ApplicationBatch.objects.select_related("job__region", "job__created_by", "period").get(pk=batch_id)
    if batch.job.finished:
        return batch
    jobs.start(batch.job, message="正在读取文件")

    def progress(rows, expected):
        # reading is 90% of the work; the last 10% are the write
        percent = min(90, rows * 90 // max(expected, rows))
        jobs.progress(batch.job_id, percent, f"已读取 {rows:,} 行")

    try:
        with batch.file.open("rb") as handle:
            data = handle.read()
        records = read_records(batch.file_name, data, max_rows=max_rows or settings.APPLICATION_MAX_ROWS, progress=progress)
        jobs.progress(batch.job_id, 90, f"正在写入 {len(records):,} 条记录")
        with transaction.atomic():
            _replace(batch=batch, user=batch.created_by, records=records)
    except (ImportFileError, ValidationError, ConflictError, PermissionDenied) as exc:
        messages = list(getattr(exc, "messages", None) or [str(exc)])
        _fail(batch, message=f"未导入：{messages[0]}", errors=messages)
    except Exception as exc:
        _fail(batch, message=f"导入失败：{exc}", errors=[str(exc)])
        raise
    finally:
        batch.refresh_from_db()
        _notify(batch)
    return batch


@transaction.atomic
def _fail(batch, *, message, errors):
    ApplicationBatch.objects.filter(pk=batch.pk).update(errors=errors)
    jobs.fail(batch.job_id, message=message)


def _notify(batch):
    """Tell the uploader how a background read ended."""
    done = batch.state == JobState.DONE
    notify(
        user=batch.created_by,
        level="info" if done else "red",
        title=f"{batch.region.name}{batch.period.label}报装记录{'已导入' if done else '未导入'}：{batch.file_name}"[:200],
        body=batch.message,
        link=reverse("job", args=[batch.job_id]),
    )


def _replace(*, batch, user, records):
    """Inside the caller's transaction: the county's records of the period become ``records``."""
    region, period = batch.region, batch.period
    _check_uploader(user, region, period)
    _submission(region, period)  # locks the county's period: one replacement at a time
    newer = ApplicationBatch.objects.filter(job__region=region, period=period, job__state=JobState.DONE, pk__gt=batch.pk).first()
    if newer is not None:
        raise ConflictError(f"{region.name}{period.label}已有更晚上传的记录（{newer.file_name}），本文件不再导入。")
    existing = Application.objects.filter(region=region, period=period)
    before = existing.count()
    existing.delete()
    for record in records:
        record.region, record.period, record.batch = region, period, batch
    Application.objects.bulk_create(records, batch_size=INSERT_CHUNK)
    batch.row_count = len(records)
    batch.save(update_fields=["row_count"])
    jobs.finish(batch.job, message=f"已导入 {len(records):,} 条记录，替换原有 {before:,} 条")
    _audit(
        user=user,
        channel=Channel.IMPORT,
        action=AuditAction.RECORDS,
        region=region,
        period=period,
        before=f"{before:,} 条",
        after=f"{len(records):,} 条（{batch.file_name}）"[:200],
    ).save()
