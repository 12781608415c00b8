from celery import shared_task

from .webhooks import deliveries_due, deliveries_enqueue, delivery_send

RETRY_BATCH = 20  # deliveries per task the beat hands out, so one slow receiver holds up few others


@shared_task(name="accounts.webhooks_deliver")
def webhooks_deliver(delivery_ids):
    """Send these deliveries (each only if still due: a second run of the same ids sends nothing)."""
    sent = [delivery_send(delivery_id=pk) for pk in delivery_ids]
    return {"sent": sum(1 for delivery in sent if delivery is not None)}


@shared_task(name="accounts.webhooks_retry")
def webhooks_retry():
    """Every minute (beat): hand out the deliveries whose retry is due, in batches."""
    due = deliveries_due()
    for start in range(0, len(due), RETRY_BATCH):
        deliveries_enqueue(due[start : start + RETRY_BATCH])
    return {"due": len(due)}
