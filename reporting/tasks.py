from celery import shared_task
from django.utils import timezone

from accounts.models import Region
from indicators.models import Period
from indicators.selectors import program_get

from .services import report_compile, report_job_run


# acks_late + reject_on_worker_lost: a worker killed mid-compile puts the job back on the queue;
# the snapshots are written in one transaction at the end, so nothing half-written is left.
@shared_task(name="reporting.compile_reports", acks_late=True, reject_on_worker_lost=True)
def compile_reports(job_id):
    job = report_job_run(job_id=job_id)
    return {"job": job.pk, "state": job.state, "snapshots": list(job.snapshots.values_list("pk", flat=True))}


@shared_task(name="reporting.draft_compile_all")
def draft_compile_all():
    """1 July and 1 January: a draft of every province's tables for the period just ended, and the roll-up."""
    # 附件2, 附件3 and the roll-up are the national program's tables.
    period = Period.objects.filter(program=program_get(), ends__lt=timezone.localdate()).order_by("-ends").first()
    if period is None:
        return 0
    provinces = list(Region.objects.filter(level="province").order_by("code"))
    for province in provinces:
        report_compile(user=None, province=province, period=period)
    report_compile(user=None, province=None, period=period)
    return len(provinces)
