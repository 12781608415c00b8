"""Pages of the application records (用电报装): a county's upload and evaluation, the conflicts of a
city's or province's counties, a background batch's progress, the template."""
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Region, RegionLevel, Role
from accounts.scoping import Action
from reporting.imports import ImportFileError

from . import applications
from .models import Application, ApplicationBatch, BatchState
from .selectors import province_lock
from .services import ConflictError
from .views import _period_and_region

def _can_upload(user, region, lock):
    """Whether to show the upload form; the service decides again."""
    return lock is None and (user.is_superuser or user.role in (Role.COUNTY, Role.SUPPLY_COMPANY)) and (
        Region.objects.restrict(user, Action.CHANGE).filter(pk=region.pk).exists()
    )


@login_required
def applications_view(request, code, region_code):
    """A county: its records, their upload and what they say. A city or province: the conflicts of its counties."""
    period, region = _period_and_region(request, code, region_code, {"county", "city", "province"})
    if region.level != RegionLevel.COUNTY:
        return render(request, "indicators/applications_conflicts.html", {
            "period": period, "region": region, "conflicts": applications.conflicts(user=request.user, region=region, period=period),
        })
    return _county_page(request, period, region)


def _county_page(request, period, region, *, errors=(), file_name="", status=200):
    batches = ApplicationBatch.objects.restrict(request.user, Action.VIEW).filter(region=region, period=period).select_related("uploaded_by")
    current = batches.filter(state=BatchState.DONE).first()
    lock = province_lock(region=region, period=period)
    return render(request, "indicators/applications.html", {
        "period": period, "region": region, "results": applications.county_evaluation(region=region, period=period),
        "batches": batches[:10],
        "current": current, "count": Application.objects.filter(region=region, period=period).count(),
        "can_upload": _can_upload(request.user, region, lock), "lock": lock, "errors": errors, "file_name": file_name,
        "inline_rows": applications.INLINE_ROWS,
    }, status=status)


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
    if batch.state == BatchState.DONE:
        messages.success(request, batch.message)
        return redirect("indicators:applications", code, region_code)
    return redirect("indicators:application-batch", batch.pk)


def _batch(request, pk):
    return get_object_or_404(ApplicationBatch.objects.restrict(request.user, Action.VIEW).select_related("region", "period", "uploaded_by"), pk=pk)


@login_required
def batch_view(request, pk):
    """A background read: a progress bar that follows the worker, then the outcome."""
    return render(request, "indicators/applications_batch.html", {"batch": _batch(request, pk)})


@login_required
def batch_status(request, pk):
    batch = _batch(request, pk)
    return JsonResponse({
        "state": batch.state, "state_display": batch.get_state_display(), "progress": batch.progress,
        "message": batch.message, "errors": batch.errors, "rows": batch.row_count,
    })


@login_required
def template_view(request):
    return FileResponse(io.BytesIO(applications.records_template()), as_attachment=True, filename="报装记录模板.xlsx")
