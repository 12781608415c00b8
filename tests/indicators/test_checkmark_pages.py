"""The county sheet, review and province pages: what a clerk types is never lost, bad input is told at the field."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Region
from indicators import services
from indicators.models import Checkmark, Submission
from indicators.services import CheckmarkValue

pytestmark = pytest.mark.django_db

SHEET = "/periods/2022S1/sheet/510104/"


@pytest.fixture
def clerk(client, make_user, period):
    client.force_login(make_user("k", "county", "510104", last_name="锦江填报员"))
    return client


def full_post(version=0, **overrides):
    data = {"version": str(version), "action": "save"}
    numbers = [n for n in range(1, 39) if n not in (21, 27, 29, 30, 33, 37, 38)]
    for n in numbers:
        data[f"status_{n}"] = "done"
        data[f"done_month_{n}"] = "2022-03"
    data.update(overrides)
    return data


def test_sheet_shows_31_indicators_under_four_groups_with_standards(clerk):
    page = clerk.get(SHEET).content.decode()
    for group in ("2020年指标", "2021年指标", "2022年指标"):
        assert f"<h2>{group}</h2>" in page
    assert page.count('class="indicator missing"') == 31
    assert "除不可抗力外，所有居民用户报装项目的办电时间达到规定时限。" in page
    assert "*21" not in page  # province indicators are not the county's


def test_save_then_read_back(clerk):
    response = clerk.post(SHEET, full_post())
    assert response.status_code == 302
    assert Checkmark.objects.filter(status="done", region__code="510104").count() == 31
    page = clerk.get(SHEET).content.decode()
    assert "已保存（31 项指标、0 个佐证文件）" in page
    assert 'value="2022-03"' in page and "尚未填写完整" not in page


def test_a_bad_month_is_told_at_the_field_and_nothing_is_lost_or_stored(clerk):
    response = clerk.post(SHEET, full_post(done_month_5="2022-13", note_6="已与住建局对接"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "指标 5 的完成月份：“2022-13”不是有效的月份" in page
    assert 'value="已与住建局对接"' in page and 'value="2022-13"' in page
    assert not Checkmark.objects.exists()


def test_a_future_done_month_is_refused(clerk):
    response = clerk.post(SHEET, full_post(done_month_3="2099-01"))
    assert response.status_code == 400
    assert "指标 3：完成月份 2099年1月 晚于本月" in response.content.decode()
    assert not Checkmark.objects.exists()


def test_a_stale_form_keeps_what_was_typed(clerk, make_user, period):
    colleague = make_user("k2", "county", "510104", last_name="同事")
    services.checkmarks_set(
        user=colleague,
        region=Region.objects.get(code="510104"),
        period=period,
        values={1: CheckmarkValue("not_done", expected_month=date(2030, 1, 1))},
    )
    response = clerk.post(SHEET, full_post(version=0, note_2="我刚输入的"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "已被同事于" in page and "尚未保存" in page
    assert 'value="我刚输入的"' in page
    assert Checkmark.objects.get().status == "not_done"


def test_submit_lists_what_is_missing(clerk):
    data = full_post(action="submit")
    del data["status_7"]
    clerk.post(SHEET, data)
    page = clerk.get(SHEET).content.decode()
    assert "以下指标尚未填写完整：7" in page
    assert Submission.objects.get(region__code="510104").state == "draft"
    assert Checkmark.objects.filter(status="done").count() == 30  # the save stood


def test_submit_makes_the_sheet_read_only(clerk):
    clerk.post(SHEET, full_post(action="submit"))
    page = clerk.get(SHEET).content.decode()
    assert "已上报" in page and "disabled" in page and "保存并上报" not in page
    assert "数据已上报，如需修改请联系地市退回" in page and "已已" not in page


def test_another_regions_county_page_is_not_found(client, make_user, period):
    client.force_login(make_user("ok", "county", "500103"))
    assert client.get(SHEET).status_code == 404
    assert client.post(SHEET, full_post()).status_code == 404
    assert not Checkmark.objects.exists()


def test_a_form_posted_by_a_neighbour_county_is_refused(client, make_user, period):
    # 青羊区 can see neither 锦江区's page nor post to it.
    client.force_login(make_user("qy", "county", "510105"))
    assert client.post(SHEET, full_post()).status_code == 404


def test_evidence_too_large_or_wrong_type_is_told_and_nothing_changes(clerk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = full_post()
    data["evidence_8"] = SimpleUploadedFile("说明.exe", b"MZ\x90\x00binary")
    response = clerk.post(SHEET, data)
    assert response.status_code == 400
    assert "说明.exe" in response.content.decode() and "类型不允许" in response.content.decode()
    assert not Checkmark.objects.exists()  # the values of the same form were not stored either
    data["evidence_8"] = SimpleUploadedFile("说明.pdf", b"%PDF-1.4\n%%EOF\n")
    assert clerk.post(SHEET, data).status_code == 302
    page = clerk.get(SHEET).content.decode()
    assert "说明.pdf" in page
    link = page.split('href="/evidence/')[1].split('"')[0]
    assert clerk.get(f"/evidence/{link}").status_code == 200


def test_city_review_return_and_approve(client, make_user, period):
    county = make_user("k", "county", "510104")
    client.force_login(county)
    client.post(SHEET, full_post(action="submit"))
    city = make_user("c", "city", "510100")
    client.force_login(city)
    page = client.get("/periods/2022S1/review/510100/").content.decode()
    assert "锦江区" in page and "已上报" in page and "31/31" in page
    client.post("/periods/2022S1/act/510104/", {"action": "return", "reason": "", "next": "/periods/2022S1/review/510100/"})
    assert Submission.objects.get(region__code="510104").state == "submitted"
    response = client.post(
        "/periods/2022S1/act/510104/", {"action": "return", "reason": "请补充佐证", "next": "/periods/2022S1/review/510100/"}, follow=True
    )
    assert "已退回" in response.content.decode() and "请补充佐证" in response.content.decode()
    # A city cannot review another city's county.
    assert client.post("/periods/2022S1/act/511102/", {"action": "approve"}).status_code == 404


def test_history_page_shows_every_change(clerk):
    clerk.post(SHEET, full_post())
    page = clerk.get(SHEET.replace("sheet", "history") + "?indicator=3").content.decode()
    assert "锦江填报员" in page and "√ 2022年3月" in page and "网页" in page


def test_county_cannot_open_review_pages(clerk):
    assert clerk.get("/periods/2022S1/review/510100/").status_code == 403


def test_home_links_to_the_users_work(clerk):
    page = clerk.get("/").content.decode()
    assert "填报锦江区2022年上半年指标" in page
