"""The one job page and the one status endpoint its poller reads, for every kind of background job."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render

from . import jobs
from .models import Job


def visible_job(user, pk):
    """The job ``pk`` if ``user`` may see it (the policy's ``utilities.view_job``); else 404, so a job
    one may not see is not told apart from one that does not exist."""
    job = get_object_or_404(Job.objects.select_related("region", "created_by"), pk=pk)
    if not user.has_perm("utilities.view_job", job):
        raise Http404("没有这个任务，或您无权查看。")
    return job


@login_required
def job_page(request, pk):
    """A progress bar that follows the worker, then the result (or what went wrong)."""
    job = visible_job(request.user, pk)
    return render(request, "utilities/job.html", {"job": job, "detail": job.detail, "status": jobs.status(job)})


@login_required
def job_status(request, pk):
    return JsonResponse(jobs.status(visible_job(request.user, pk)))
