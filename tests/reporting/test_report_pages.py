"""The statistics pages: compile, follow the job, review on screen, confirm, download; 附件3 entry."""

import pytest

from reporting.models import Benefit, ReportSnapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def official(client, make_user, period, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(make_user("p", "province", "640000", last_name="宁夏能源局"))
    return client


def test_compile_follow_review_confirm_download(official, django_capture_on_commit_callbacks):
    page = official.get("/reporting/?period=2022S1").content.decode()
    assert "宁夏回族自治区" in page and "尚未编制" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = official.post("/reporting/?period=2022S1")
    assert response.status_code == 302 and response.url.startswith("/jobs/")
    status = official.get(response.url + "status/").json()
    assert status["state"] == "done" and status["progress"] == 100 and len(status["results"]) == 2
    job_page = official.get(response.url).content.decode()
    assert "job-progress" in job_page and "已完成" in job_page
    snapshot = ReportSnapshot.objects.get(kind="attachment2")
    page = official.get(f"/reporting/snapshots/{snapshot.pk}/").content.decode()
    assert "宁夏回族自治区“获得电力”任务指标完成情况统计表" in page and "已完成县个数" in page
    assert "待审阅" in page
    official.post(f"/reporting/snapshots/{snapshot.pk}/")
    assert ReportSnapshot.objects.get(pk=snapshot.pk).confirmed_at is not None
    download = official.get(f"/reporting/snapshots/{snapshot.pk}/download/")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content)[:2] == b"PK"


def test_other_roles_and_provinces_are_kept_out(client, make_user, official, period, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        official.post("/reporting/?period=2022S1")
    snapshot = ReportSnapshot.objects.first()
    client.force_login(make_user("k", "county", "640104"))
    assert client.get("/reporting/").status_code == 403
    assert "仅向省级能源主管部门" in client.get("/reporting/").content.decode()
    client.force_login(make_user("o", "province", "510000"))
    assert client.get(f"/reporting/snapshots/{snapshot.pk}/").status_code == 404
    assert client.get(f"/reporting/snapshots/{snapshot.pk}/download/").status_code == 404
    assert client.get("/reporting/?region=640000").status_code == 404


def test_national_official_compiles_the_rollup(client, make_user, period, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(make_user("n", "national"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reporting/?period=2022S1&region=national")
    assert response.status_code == 302
    snapshot = ReportSnapshot.objects.get(kind="national")
    page = client.get(f"/reporting/snapshots/{snapshot.pk}/").content.decode()
    assert "全国“获得电力”任务指标完成情况汇总表" in page and "四川省" in page and "新疆维吾尔自治区" in page


def test_benefits_page(client, make_user):
    client.force_login(make_user("s", "supply_company", "640100"))
    page = client.get("/reporting/benefits/?year=2022&half=1").content.decode()
    assert "受益户数（户）" in page and "160kW及以下的企业用户" in page
    response = client.post("/reporting/benefits/?year=2022&half=1", {"residential-households": "1.5", "other-sales": "8.25"})
    assert response.status_code == 400
    assert "必须是整数" in response.content.decode() and 'value="8.25"' in response.content.decode()
    assert not Benefit.objects.exists()
    response = client.post("/reporting/benefits/?year=2022&half=1", {"residential-households": "15", "other-sales": "8.25"}, follow=True)
    assert "已保存" in response.content.decode()
    assert Benefit.objects.get(category="residential").households == 15
    client.force_login(make_user("k", "county", "640104"))
    assert client.get("/reporting/benefits/").status_code == 403


def test_export_of_the_current_table_to_fill_offline(official, client, make_user):
    from io import BytesIO

    from openpyxl import load_workbook

    response = official.get("/reporting/export/attachment2/?period=2022S1&region=640000")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    assert sheet["A1"].value == "宁夏回族自治区“获得电力”任务指标完成情况统计表"
    assert official.get("/reporting/export/attachment9/?period=2022S1&region=640000").status_code == 404
    assert official.get("/reporting/export/attachment2/?period=2022S1&region=510000").status_code == 404
