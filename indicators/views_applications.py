"""Pages of the application records (用电报装): a county's upload and evaluation, the conflicts of a
city's or province's counties, a background batch's progress (the one job page), the template."""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import RegionLevel
from accounts.scoping import Action
from utilities.errors import ConflictError
from utilities.excel import ImportFileError
from utilities.jobs import status as job_status_of
from utilities.models import JobState
from utilities.views import job_page
from utilities.views import job_status as job_status_view

from . import applications
from .models import Application, ApplicationBatch
from .signoff import province_lock
from .views import _period_and_region


def _can_upload(user, region, lock):
    """Whether to show the upload form; the service decides again."""
    return lock is None and user.has_perm("indicators.upload_applications", region)


@login_required
def applications_view(request, code, region_code):
    """A county: its records, their upload and what they say. A city or province: the conflicts of its counties."""
    period, region = _period_and_region(request, code, region_code, {"county", "city", "province"})
    if region.level != RegionLevel.COUNTY:
        return render(
            request,
            "indicators/applications_conflicts.html",
            {
                "period": period,
                "region": region,
                "conflicts": applications.conflicts(user=request.user, region=region, period=period),
            },
        )
    return _county_page(request, period, region)


def _county_page(request, period, region, *, errors=(), file_name="", status=200):
    batches = (
        ApplicationBatch.objects.restrict(request.user, Action.VIEW)
        .filter(job__region=region, period=period)
        .select_related("job__region", "job__created_by", "period")
    )
    current = batches.filter(job__state=JobState.DONE).first()
    running = next((b for b in batches[:10] if not b.job.finished), None)
    lock = province_lock(region=region, period=period)
    return render(
        request,
        "indicators/applications.html",
        {
            "period": period,
            "region": region,
            "results": applications.county_evaluation(region=region, period=period),
            "targets": applications.targets(region=region, period=period),
            "batches": batches[:10],
            "current": current,
            "count": Application.objects.filter(region=region, period=period).count(),
            "can_upload": _can_upload(request.user, region, lock),
            "lock": lock,
            "errors": errors,
            "file_name": file_name,
            "inline_rows": applications.INLINE_ROWS,
            "running": job_status_of(running.job) if running else None,
        },
        status=status,
    )


@login_required
@require_POST
def applications_upload_view(request, code, region_code):
    period, region = _period_and_region(request, code, region_code, {"county"})
    upload = request.FILES.get("file")
    if upload is None:
        return _county_page(request, period, region, errors=["请选择要上传的文件（.xlsx 或 .csv）。"], status=400)
    try:
        batch = applications.applications_upload(user=request.user, region=region, period=period, upload=upload)
    except ImportFileError as exc:
        return _county_page(request, period, region, errors=exc.messages, file_name=upload.name, status=400)
    except (ValidationError, ConflictError) as exc:
        return _county_page(request, period, region, errors=list(getattr(exc, "messages", [str(exc)])), file_name=upload.name, status=400)
    if batch.state == JobState.DONE:
        messages.success(request, batch.message)
        return redirect(reverse("indicators:applications", args=[code, region_code]) + period.program_query)
    return redirect("job", batch.job_id)


def _job_of_batch(pk):
    """The Job behind batch ``pk`` (the id older links use)."""
    return get_object_or_404(ApplicationBatch.objects.only("job_id"), pk=pk).job_id


@login_required
def batch_view(request, pk):
    """A background read: the one job page (``/jobs/<id>/``), under its older address."""
    return job_page(request, _job_of_batch(pk))


@login_required
def batch_status(request, pk):
    return job_status_view(request, _job_of_batch(pk))


@login_required
def template_view(request):
    return FileResponse(io.BytesIO(applications.records_template()), as_attachment=True, filename="报装记录模板.xlsx")
