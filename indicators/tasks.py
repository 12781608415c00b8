from celery import shared_task

from .applications import applications_batch_run


# acks_late + reject_on_worker_lost: a worker killed mid-read puts the batch back on the queue; the
# records are replaced in one transaction at the end, so nothing half-written is left.
@shared_task(name="indicators.read_application_batch", acks_late=True, reject_on_worker_lost=True)
def read_application_batch(batch_id):
    batch = applications_batch_run(batch_id=batch_id)
    return {"batch": batch.pk, "state": batch.state, "rows": batch.row_count}
