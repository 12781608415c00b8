"""Idempotency-Key on API writes (issue 16 §3): a retried write is applied once, a reused key with
another request is a 422, and only outcomes a retry would repeat are kept."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from indicators.models import AuditEntry, Indicator
from reporting.models import ReportJob
from tests.helpers import V1, assert_error
from utilities.models import IdempotencyRecord
from utilities.tasks import purge_idempotency

pytestmark = pytest.mark.django_db

SICHUAN, JINJIANG = "510000", "510104"
JOBS = f"{V1}/periods/2022S1/regions/{SICHUAN}/report-jobs/"
CHECKMARKS = f"{V1}/periods/2022S1/regions/{JINJIANG}/checkmarks/"


def key():
    return str(uuid.uuid4())


def all_done():
    numbers = Indicator.objects.filter(indicator_set__code="national-2021", level="county").values_list("number", flat=True)
    return {"checkmarks": [{"number": n, "status": "done", "done_month": "2022-03"} for n in numbers]}


def test_a_post_retried_after_a_timeout_is_applied_once(period, client_for):
    writer = client_for(SICHUAN)
    k = key()
    first = writer.post(JOBS, HTTP_IDEMPOTENCY_KEY=k)
    again = writer.post(JOBS, HTTP_IDEMPOTENCY_KEY=k)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert ReportJob.objects.count() == 1
    # Without a key every POST is a new job, as before.
    writer.post(JOBS)
    assert ReportJob.objects.count() == 2


def test_a_put_retried_with_its_old_if_match_gets_the_first_answer_not_412(period, client_for):
    client = client_for(JINJIANG)
    k = key()
    first = client.put(CHECKMARKS, all_done(), format="json", HTTP_IF_MATCH='"0"', HTTP_IDEMPOTENCY_KEY=k)
    assert first.status_code == 200 and first["ETag"] == '"1"'
    # The client never saw that answer and retries: the version has moved, yet it is not a conflict.
    again = client.put(CHECKMARKS, all_done(), format="json", HTTP_IF_MATCH='"0"', HTTP_IDEMPOTENCY_KEY=k)
    assert again.status_code == 200 and again["ETag"] == '"1"' and again.json() == first.json()
    assert AuditEntry.objects.filter(region__code=JINJIANG, action="set").count() == 31


def test_the_same_key_for_another_request_is_422_and_changes_nothing(period, client_for):
    client = client_for(JINJIANG)
    k = key()
    client.put(CHECKMARKS, all_done(), format="json", HTTP_IF_MATCH='"0"', HTTP_IDEMPOTENCY_KEY=k)
    other = {"checkmarks": [{"number": 5, "status": "not_done", "expected_month": "2022-12"}]}
    response = client.put(CHECKMARKS, other, format="json", HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY=k)
    assert_error(response, 422, "idempotency_key_reused")
    assert AuditEntry.objects.filter(region__code=JINJIANG, action="set").count() == 31
    # Another path with the same key is another request too.
    assert_error(client.post(JOBS.replace(SICHUAN, JINJIANG), HTTP_IDEMPOTENCY_KEY=k), 422, "idempotency_key_reused")


def test_keys_belong_to_their_sender(period, client_for):
    k = key()
    client_for(SICHUAN).post(JOBS, HTTP_IDEMPOTENCY_KEY=k)
    second = client_for(SICHUAN).post(JOBS, HTTP_IDEMPOTENCY_KEY=k)  # another token, the same key
    assert second.status_code == 202 and not second.has_header("Idempotent-Replayed")
    assert ReportJob.objects.count() == 2


def test_a_refusal_a_retry_would_not_repeat_is_not_kept(period, client_for):
    client = client_for(JINJIANG)
    k = key()
    stale = client.put(CHECKMARKS, all_done(), format="json", HTTP_IF_MATCH='"7"', HTTP_IDEMPOTENCY_KEY=k)
    assert_error(stale, 412, "precondition_failed")
    assert not IdempotencyRecord.objects.exists()
    fresh = client.put(CHECKMARKS, all_done(), format="json", HTTP_IF_MATCH='"0"', HTTP_IDEMPOTENCY_KEY=k)
    assert fresh.status_code == 200 and not fresh.has_header("Idempotent-Replayed")
    # A refusal of the data itself is kept: the same retry gets the same 400.
    bad = {"checkmarks": [{"number": 5, "status": "done", "done_month": "2022/13"}]}
    k2 = key()
    first = client.put(CHECKMARKS, bad, format="json", HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY=k2)
    again = client.put(CHECKMARKS, bad, format="json", HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY=k2)
    assert first.status_code == again.status_code == 400 and again["Idempotent-Replayed"] == "true"


def test_a_key_in_use_is_409_and_an_invalid_key_is_400(period, client_for):
    client = client_for(SICHUAN)
    k = key()
    client.post(JOBS, HTTP_IDEMPOTENCY_KEY=k)
    IdempotencyRecord.objects.update(status=None)  # as while the first request is still running
    assert_error(client.post(JOBS, HTTP_IDEMPOTENCY_KEY=k), 409, "conflict")
    for bad in ("", "has space", "键", "x" * 256):
        response = client.post(JOBS, HTTP_IDEMPOTENCY_KEY=bad)
        assert_error(response, 400, "validation_error")
        assert "Idempotency-Key" in response.json()["errors"]
    assert ReportJob.objects.count() == 1


def test_after_24_hours_the_key_is_new_and_old_records_are_purged(period, client_for):
    client = client_for(SICHUAN)
    k = key()
    client.post(JOBS, HTTP_IDEMPOTENCY_KEY=k)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = client.post(JOBS, HTTP_IDEMPOTENCY_KEY=k)
    assert again.status_code == 202 and not again.has_header("Idempotent-Replayed")
    assert ReportJob.objects.count() == 2
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_idempotency() == 1 and not IdempotencyRecord.objects.exists()


def test_an_unauthenticated_write_is_answered_401_and_kept_nowhere(period, client):
    assert_error(client.post(JOBS, HTTP_IDEMPOTENCY_KEY=key(), HTTP_AUTHORIZATION="Token wrong"), 401, "not_authenticated")
    assert not IdempotencyRecord.objects.exists()


def test_the_schema_offers_the_header_on_every_write_and_documents_422():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    writes = [
        (path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items() if method in ("post", "put", "patch")
    ]
    assert writes
    for path, method, operation in writes:
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, (path, method)
        assert "422" in operation["responses"], (path, method)
    reads = [op for ops in schema["paths"].values() for method, op in ops.items() if method == "get"]
    assert not any(p["name"] == "Idempotency-Key" for op in reads for p in op.get("parameters", []))
