"""One background-job model (issue 12 §3): a report compile and an application-records import move
through the same states by ``utilities.jobs``, and one status endpoint (``/jobs/<id>/status/``) and
one page serve both, to whoever the policy's ``utilities.view_job`` lets see them."""

import re

import pytest
from django.core.files.base import ContentFile

from accounts.models import Region
from indicators.models import ApplicationBatch
from reporting.models import ReportJob, ReportSnapshot
from utilities import jobs
from utilities.models import Job, JobKind, JobState

pytestmark = pytest.mark.django_db

NINGXIA, YINCHUAN, XINGQING, JINFENG, SICHUAN = "640000", "640100", "640104", "640106", "510000"


@pytest.fixture
def official(make_user):
    return make_user("nx", "province", NINGXIA)


@pytest.fixture
def report_job(official, period, settings, tmp_path):
    """A finished compile of 宁夏's tables with one snapshot, as the worker leaves it."""
    settings.MEDIA_ROOT = tmp_path
    job = jobs.create(kind=JobKind.REPORT, region=Region.objects.get(code=NINGXIA), user=official)
    report = ReportJob.objects.create(job=job, period=period)
    snapshot = ReportSnapshot(kind="attachment2", region=job.region, period=period, data={"rows": []}, data_state="测试")
    snapshot.xlsx.save("a2.xlsx", ContentFile(b"PK\x03\x04"), save=False)
    snapshot.save()
    report.snapshots.set([snapshot])
    jobs.start(job, message="开始编制")
    jobs.finish(job, message="编制完成")
    return report


@pytest.fixture
def batch(make_user, period, settings, tmp_path):
    """An import of 兴庆区's records that the worker refused, with the located errors it found."""
    settings.MEDIA_ROOT = tmp_path
    clerk = make_user("xq", "county", XINGQING)
    job = jobs.create(kind=JobKind.APPLICATIONS, region=Region.objects.get(code=XINGQING), user=clerk, message="已排队，等待后台导入")
    batch = ApplicationBatch(job=job, period=period, file_name="records.xlsx", errors=["第 3 行 N 列：装表接电结束早于开始。"])
    batch.file.save("records.xlsx", ContentFile(b"PK\x03\x04"), save=False)
    batch.save()
    jobs.start(job, message="正在读取文件")
    jobs.fail(job, message="未导入：第 3 行 N 列：装表接电结束早于开始。")
    return batch


# --- the lifecycle ---------------------------------------------------------------------------------


def test_a_job_moves_queued_running_done_and_stays_done(official):
    job = jobs.create(kind=JobKind.REPORT, region=None, user=official, message="已排队")
    assert (job.state, job.progress, job.started_at, job.finished_at, job.finished) == (JobState.QUEUED, 0, None, None, False)
    assert jobs.start(job, message="开始编制") and job.state == JobState.RUNNING and job.started_at is not None
    assert jobs.progress(job.pk, 250, "汇总各省数据")  # by id, as a worker calls it; clamped to 100
    job.refresh_from_db()
    assert (job.state, job.progress, job.message) == (JobState.RUNNING, 100, "汇总各省数据")
    assert jobs.progress(job.pk, -5) and Job.objects.get(pk=job.pk).progress == 0
    assert jobs.finish(job, message="编制完成")
    job.refresh_from_db()
    assert (job.state, job.progress, job.message, job.finished) == (JobState.DONE, 100, "编制完成", True)
    finished_at = job.finished_at
    # a late failure, progress or restart does not undo the end
    assert not jobs.fail(job.pk, message="迟到的失败")
    assert not jobs.progress(job.pk, 10, "迟到的进度")
    assert not jobs.start(job.pk)
    job.refresh_from_db()
    assert (job.state, job.message, job.finished_at) == (JobState.DONE, "编制完成", finished_at)


def test_a_running_job_restarts_after_its_worker_died_and_fails_with_its_message(official):
    job = jobs.create(kind=JobKind.APPLICATIONS, region=Region.objects.get(code=XINGQING), user=official)
    jobs.start(job)
    jobs.progress(job, 40, "已读取 2,000 行")
    assert jobs.start(job, message="正在读取文件")  # redelivered: running again, from the start
    assert jobs.fail(job.pk, message="导入失败：" + "很长的原因" * 200)
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.finished_at is not None and len(job.message) == 500


def test_each_kind_names_its_states_as_its_pages_always_did(official):
    report = jobs.create(kind=JobKind.REPORT, region=None, user=official)
    records = jobs.create(kind=JobKind.APPLICATIONS, region=Region.objects.get(code=XINGQING), user=official)
    labels = {}
    for state in JobState:
        Job.objects.filter(pk__in=[report.pk, records.pk]).update(state=state)
        report.refresh_from_db()
        records.refresh_from_db()
        labels[state] = (report.label, records.label)
    assert labels == {
        JobState.QUEUED: ("排队中", "排队中"),
        JobState.RUNNING: ("编制中", "导入中"),
        JobState.DONE: ("已完成", "已导入"),
        JobState.FAILED: ("失败", "未导入"),
    }


def test_a_job_finds_its_kinds_own_record(report_job, batch):
    assert report_job.job.detail == report_job and batch.job.detail == batch
    assert jobs.create(kind=JobKind.REPORT, region=None, user=None).detail is None


# --- the one status endpoint and page --------------------------------------------------------------


def test_the_creator_follows_a_report_job_at_the_one_endpoint_and_the_old_one(client, official, report_job):
    client.force_login(official)
    status = client.get(f"/jobs/{report_job.job_id}/status/").json()
    snapshot = report_job.snapshots.get()
    assert status == {
        "id": report_job.job_id,
        "kind": "report",
        "state": "done",
        "label": "已完成",
        "progress": 100,
        "message": "编制完成",
        "finished": True,
        "url": f"/jobs/{report_job.job_id}/",
        "results": [{"label": snapshot.get_kind_display(), "url": f"/reporting/snapshots/{snapshot.pk}/"}],
        "errors": [],
    }
    assert client.get(f"/reporting/jobs/{report_job.pk}/status/").json() == status  # the address the API and old links use
    page = client.get(f"/jobs/{report_job.job_id}/")
    text = page.content.decode()
    assert page.status_code == 200 and f"编制任务 #{report_job.pk} · 宁夏回族自治区" in text
    assert f'href="/reporting/snapshots/{snapshot.pk}/"' in text and "返回统计报表" in text
    old = client.get(f"/reporting/jobs/{report_job.pk}/").content.decode()
    assert old.split("<main")[1] == text.split("<main")[1]  # the same page (the header's CSRF token differs)


def test_the_creator_follows_an_import_and_sees_why_it_was_refused(client, batch):
    client.force_login(batch.created_by)
    status = client.get(f"/jobs/{batch.job_id}/status/").json()
    assert (status["kind"], status["state"], status["label"], status["finished"]) == ("applications", "failed", "未导入", True)
    assert status["errors"] == ["第 3 行 N 列：装表接电结束早于开始。"] and status["results"] == []
    assert client.get(f"/applications/batches/{batch.pk}/status/").json() == status
    text = client.get(f"/jobs/{batch.job_id}/").content.decode()
    assert "报装记录导入 #" in text and "文件“records.xlsx”" in text and "装表接电结束早于开始" in text
    assert f"/periods/{batch.period.code}/applications/{XINGQING}/" in text  # back to the county's records


def test_the_job_page_follows_the_job_with_the_one_static_poller_and_no_inline_script(client, official):
    client.force_login(official)
    job = jobs.create(kind=JobKind.REPORT, region=Region.objects.get(code=NINGXIA), user=official)
    text = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f'data-status-url="/jobs/{job.pk}/status/"' in text and 'data-state="queued"' in text
    assert '<script src="/static/js/job.js" defer></script>' in text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)  # the CSP allows no inline script


def test_who_may_see_a_report_job(client, make_user, django_user_model, report_job):
    region_of = report_job.job.region
    root = django_user_model.objects.create_superuser("root", password="pw-for-tests-1", role="national")
    allowed = [make_user("nx2", "province", NINGXIA), make_user("n", "national"), root]
    refused = [
        make_user("sc", "province", SICHUAN),  # another province
        make_user("gd", "supply_company", NINGXIA),  # not a report reader, though in scope
        make_user("yc", "city", YINCHUAN),
    ]
    assert region_of.code == NINGXIA
    for user in allowed:
        client.force_login(user)
        assert client.get(f"/jobs/{report_job.job_id}/status/").status_code == 200, user
    for user in refused:
        client.force_login(user)
        for url in (
            f"/jobs/{report_job.job_id}/",
            f"/jobs/{report_job.job_id}/status/",
            f"/reporting/jobs/{report_job.pk}/",
            f"/reporting/jobs/{report_job.pk}/status/",
        ):
            assert client.get(url).status_code == 404, (user, url)
    client.logout()
    assert client.get(f"/jobs/{report_job.job_id}/status/").url.startswith("/login/")


def test_who_may_see_an_import(client, make_user, batch):
    client.force_login(make_user("yc", "city", YINCHUAN))  # the county's city: in its view scope
    assert client.get(f"/jobs/{batch.job_id}/status/").status_code == 200
    for user in (make_user("jf", "county", JINFENG), make_user("sc", "province", SICHUAN)):
        client.force_login(user)
        assert client.get(f"/jobs/{batch.job_id}/status/").status_code == 404
        assert client.get(f"/applications/batches/{batch.pk}/").status_code == 404
    assert client.get("/jobs/999999/status/").status_code == 404


def test_the_reports_page_and_the_records_page_follow_a_running_job_with_the_same_fragment(
    client, official, make_user, period, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    ningxia, xingqing = Region.objects.get(code=NINGXIA), Region.objects.get(code=XINGQING)
    compile_job = jobs.create(kind=JobKind.REPORT, region=ningxia, user=official)
    ReportJob.objects.create(job=compile_job, period=period)
    jobs.start(compile_job, message="编制附件2 任务指标完成情况统计表")
    client.force_login(official)
    text = client.get(f"/reporting/?period={period.code}&region={NINGXIA}").content.decode()
    assert f'<div class="job" data-status-url="/jobs/{compile_job.pk}/status/" data-state="running">' in text
    assert "编制中" in text and '<script src="/static/js/job.js" defer></script>' in text

    clerk = make_user("xq", "county", XINGQING)
    import_job = jobs.create(kind=JobKind.APPLICATIONS, region=xingqing, user=clerk, message="已排队，等待后台导入")
    batch = ApplicationBatch(job=import_job, period=period, file_name="big.xlsx")
    batch.file.save("big.xlsx", ContentFile(b"PK\x03\x04"), save=False)
    batch.save()
    client.force_login(clerk)
    text = client.get(f"/periods/{period.code}/applications/{XINGQING}/").content.decode()
    assert f'<div class="job" data-status-url="/jobs/{import_job.pk}/status/" data-state="queued">' in text
    assert "已排队，等待后台导入" in text and f'href="/jobs/{import_job.pk}/"' in text
