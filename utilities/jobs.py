"""The one way a background job's state changes: create → start → progress … → finish or fail.

Every kind of job (a report compile, an application-records import) goes through these, so the
pages and the one status endpoint (``/jobs/<id>/status/``) read every job the same way. Each call
is a single UPDATE of the job's row by id: a worker's progress never overwrites fields it did not
mean to change, and a call made inside the caller's transaction (``finish`` beside the records it
reports) commits or rolls back with it.
"""

from django.urls import reverse
from django.utils import timezone

from .models import Job, JobState

MESSAGE_LENGTH = Job._meta.get_field("message").max_length
UNFINISHED = (JobState.QUEUED, JobState.RUNNING)


def create(*, kind, region, user, message=""):
    """A queued job of ``kind`` for ``region`` (None: national), started by ``user`` (None: by the system)."""
    job = Job(kind=kind, region=region, created_by=user, message=message[:MESSAGE_LENGTH])
    job.full_clean()
    job.save()
    return job


def _update(job, *, states=None, **fields):
    """Update the row of ``job`` (a Job or its id); ``states`` limits it to a job in one of them.
    A Job instance passed in is brought up to date as well. True if the row changed."""
    rows = Job.objects.filter(pk=job.pk if isinstance(job, Job) else job)
    if states is not None:
        rows = rows.filter(state__in=states)
    if "message" in fields:
        fields["message"] = fields["message"][:MESSAGE_LENGTH]
    changed = bool(rows.update(**fields))
    if changed and isinstance(job, Job):
        for name, value in fields.items():
            setattr(job, name, value)
    return changed


def start(job, *, message=""):
    """A worker took the job. A job already running (redelivered after its worker died) starts again."""
    return _update(job, states=UNFINISHED, state=JobState.RUNNING, started_at=timezone.now(), message=message)


def progress(job, percent, message=""):
    """How far the running job has got, 0–100."""
    return _update(job, states=UNFINISHED, progress=max(0, min(100, int(percent))), message=message)


def finish(job, *, message=""):
    return _update(job, states=UNFINISHED, state=JobState.DONE, progress=100, message=message, finished_at=timezone.now())


def fail(job, *, message):
    """The job ended without its result; a finished job stays as it ended."""
    return _update(job, states=UNFINISHED, state=JobState.FAILED, message=message, finished_at=timezone.now())


def status(job):
    """What the job page and its poller show: the state as this kind names it, progress, message,
    and once there are any, the links to the result and the errors."""
    detail = job.detail
    results = detail.job_results() if detail is not None else []
    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "label": job.label,
        "progress": job.progress,
        "message": job.message,
        "finished": job.finished,
        "url": reverse("job", args=[job.pk]),
        "results": [{"label": label, "url": url} for label, url in results],
        "errors": list(detail.job_errors()) if detail is not None else [],
    }
