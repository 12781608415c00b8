"""The REST API for 政务平台: tokens, bulk writes with ETag, the error body, pagination, filters,
report jobs and the audit channel. The permission matrix is in test_api_permissions.py."""

import json
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts.models import ApiToken, Region, User
from accounts.services import api_token_create, api_token_digest, api_token_revoke
from indicators.models import AuditEntry, Checkmark, Evidence, Indicator, Submission
from reporting.models import Benefit, ReportJob
from tests.helpers import (
    CHECKMARKS,
    CHENGDU,
    JINJIANG,
    QINGYANG,
    SICHUAN,
    V1,
    YUZHONG,
    assert_error,
)

pytestmark = pytest.mark.django_db


def county_numbers():
    return list(Indicator.objects.filter(indicator_set__code="national-2021", level="county").values_list("number", flat=True))


def all_done(numbers=None):
    return {"checkmarks": [{"number": n, "status": "done", "done_month": "2022-03"} for n in numbers or county_numbers()]}


def put(client, code, body, etag='"0"'):
    headers = {} if etag is None else {"HTTP_IF_MATCH": etag}
    return client.put(CHECKMARKS.format(code), body, format="json", **headers)


def stored(code, period):
    return Checkmark.objects.filter(region__code=code, period=period).count()


# Tokens


def test_a_token_is_stored_hashed_and_acts_as_its_own_service_user(admin, period, client_for):
    client = client_for(JINJIANG)
    token = client.token
    assert token.key_hash == api_token_digest(client.secret) and client.secret not in token.key_hash
    assert client.secret.startswith(token.prefix) and len(client.secret) > 40
    assert (token.user.username, token.user.role, token.user.region.code) == (f"api-{token.prefix}", "county", JINJIANG)
    assert not token.user.has_usable_password()
    assert (token.created_by, token.last_used_at) == (admin, None)
    assert client.get(CHECKMARKS.format(JINJIANG)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_token_roles_follow_the_region_or_supply_company(admin, client_for):
    assert client_for(CHENGDU).token.user.role == "city"
    assert client_for(SICHUAN).token.user.role == "province"
    assert client_for(CHENGDU, role="supply_company").token.user.role == "supply_company"
    with pytest.raises(ValidationError, match="只能以地市审核人员或供电企业的身份使用"):
        api_token_create(user=admin, name="x", region=Region.objects.get(code=CHENGDU), access="read", role="regulator")


def test_a_supply_company_token_names_its_company_of_the_province(admin, client_for, client):
    from accounts.models import Company

    chengdu = Region.objects.get(code=CHENGDU)
    assert client_for(CHENGDU, role="supply_company").token.user.company.province.code == SICHUAN
    with pytest.raises(ValidationError, match="须选择所属供电企业") as refused:
        api_token_create(user=admin, name="x", region=chengdu, access="write", role="supply_company")
    assert list(refused.value.message_dict) == ["company"]
    chongqing = Company.objects.create(name="重庆测试供电公司", code="cq-test", province=Region.objects.get(code="500000"))
    with pytest.raises(ValidationError, match="不是成都市所在省份的供电企业"):
        api_token_create(user=admin, name="x", region=chengdu, access="write", role="supply_company", company=chongqing)
    sichuan = Company.objects.create(name="四川测试供电公司", code="sc-test", province=Region.objects.get(code=SICHUAN))
    with pytest.raises(ValidationError, match="只有供电企业身份"):
        api_token_create(user=admin, name="x", region=chengdu, access="read", company=sichuan)
    # The page: the company is chosen on the form and shown with the token.
    client.force_login(admin)
    page = client.post(
        reverse("api_tokens"),
        {"name": "成都供电接口", "region": CHENGDU, "access": "write", "role": "supply_company", "company": "sc-test"},
    )
    assert page.status_code == 200 and "（四川测试供电公司）" in page.content.decode()
    refused_page = client.post(reverse("api_tokens"), {"name": "y", "region": CHENGDU, "access": "write", "role": "supply_company"})
    assert refused_page.status_code == 400 and "须选择所属供电企业" in refused_page.content.decode()


def test_only_province_officials_manage_tokens_of_their_province(admin, make_user, client_for):
    city = make_user("c", "city", CHENGDU)
    with pytest.raises(PermissionDenied, match="只有省级能源主管部门"):
        api_token_create(user=city, name="x", region=city.region, access="read")
    with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
        api_token_create(user=admin, name="x", region=Region.objects.get(code=YUZHONG), access="read")
    other = client_for(JINJIANG).token
    with pytest.raises(PermissionDenied):
        api_token_revoke(user=make_user("cq", "province", "500000"), token=other)
    assert not ApiToken.objects.filter(region__code=YUZHONG).exists()


def test_a_revoked_token_is_refused_at_once(admin, period, client_for):
    client = client_for(JINJIANG)
    api_token_revoke(user=admin, token=client.token)
    body = assert_error(client.get(CHECKMARKS.format(JINJIANG)), 401, "not_authenticated")
    assert "已被吊销" in body["message"]
    assert not User.objects.get(pk=client.token.user_id).is_active
    with pytest.raises(ValidationError, match="已经吊销"):
        api_token_revoke(user=admin, token=client.token)


def test_the_tokens_page_shows_the_secret_once(client, admin):
    client.force_login(admin)
    page = client.get("/api/tokens/")
    assert page.status_code == 200 and "新建令牌" in page.content.decode()
    response = client.post("/api/tokens/", {"name": "四川省政务服务平台", "region": CHENGDU, "access": "write", "role": ""})
    token = ApiToken.objects.get()
    secret = response.context["secret"]
    assert response.status_code == 200 and secret in response.content.decode() and "只显示这一次" in response.content.decode()
    assert token.key_hash == api_token_digest(secret) and (token.access, token.user.role) == ("write", "city")
    assert response["Cache-Control"].startswith("max-age=0")
    again = client.get("/api/tokens/").content.decode()
    assert secret not in again and f"{token.prefix}…" in again
    response = client.post(f"/api/tokens/{token.pk}/revoke/", follow=True)
    assert "已吊销令牌" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_tokens_page_is_for_province_officials_and_their_regions(client, admin, make_user):
    client.force_login(make_user("k", "county", JINJIANG))
    assert client.get("/api/tokens/").status_code == 403
    client.force_login(admin)
    response = client.post("/api/tokens/", {"name": "越权", "region": YUZHONG, "access": "write"})
    assert response.status_code == 400 and response.context["form"].errors["region"]
    assert not ApiToken.objects.exists()


# Reading and writing check-marks


def test_read_a_county_sheet_with_its_etag(period, client_for):
    response = client_for(JINJIANG, access="read").get(CHECKMARKS.format(JINJIANG))
    body = response.json()
    assert response.status_code == 200 and response["ETag"] == '"0"'
    assert (body["region"]["code"], body["region"]["parent"], body["period"], body["state"], body["version"]) == (
        JINJIANG,
        CHENGDU,
        "2022S1",
        "draft",
        0,
    )
    assert len(body["checkmarks"]) == 31 and len(body["missing"]) == 31 and body["changed"] is None
    assert body["checkmarks"][0] == {
        "number": 1,
        "label": "1",
        "group": "2020年指标",
        "encouraging": False,
        "status": "",
        "done_month": None,
        "expected_month": None,
        "note": "",
        "display": "",
        "complete": False,
        "overdue": False,
        "updated_at": None,
    }


def test_bulk_write_of_all_indicators_is_audited_as_api(period, client_for):
    client = client_for(JINJIANG)
    response = put(client, JINJIANG, all_done())
    body = response.json()
    assert response.status_code == 200 and response["ETag"] == '"1"'
    assert (body["changed"], body["version"], body["missing"]) == (31, 1, [])
    assert {c["display"] for c in body["checkmarks"]} == {"√"}
    entries = AuditEntry.objects.filter(region__code=JINJIANG, action="set")
    assert entries.count() == 31
    assert set(entries.values_list("channel", "user")) == {("api", client.token.user_id)}


def test_a_partial_write_keeps_the_other_indicators(period, client_for):
    client = client_for(JINJIANG)
    put(client, JINJIANG, all_done())
    body = put(
        client,
        JINJIANG,
        {
            "checkmarks": [
                {"number": 5, "status": "not_done", "expected_month": "2022-12", "note": "等待电网改造"},
            ]
        },
        etag='"1"',
    ).json()
    five = next(c for c in body["checkmarks"] if c["number"] == 5)
    assert (body["changed"], body["version"], five["display"], five["expected_month"], five["note"]) == (
        1,
        2,
        "2022年12月",
        "2022-12",
        "等待电网改造",
    )
    assert Checkmark.objects.filter(region__code=JINJIANG, period=period, status="done").count() == 30


@pytest.mark.parametrize(
    "items, key, message",
    [
        ([{"number": 3, "status": "done", "done_month": "2021/13"}], "3", "指标 3 的完成月份：“2021/13”不是有效的月份"),
        ([{"number": 3, "status": "done", "done_month": "2021-13"}], "3", "不是有效的月份"),
        ([{"number": 3, "status": "done", "done_month": 202103}], "3", "不是有效的月份"),
        ([{"number": 3, "status": "finished"}], "3", "指标 3 的完成情况"),
        ([{"number": 3, "status": "done", "expected_month": "2022-09"}], "3", "只有完成情况为 not_done"),
        ([{"number": 3, "status": "done", "note": "长" * 501}], "3", "指标 3 的备注"),
        ([{"number": 3, "status": "done"}, {"number": 3, "status": ""}], "checkmarks", "重复出现"),
        (["3"], "checkmarks[2]", "第 3 项"),
        ([None], "checkmarks[2]", "第 3 项：该字段不能为 null"),
        ([{"status": "done"}], "checkmarks[2]", "第 3 项的序号"),
    ],
)
def test_a_wrong_item_fails_the_whole_write(period, client_for, items, key, message):
    valid = all_done([1, 2])["checkmarks"]
    errors = assert_error(put(client_for(JINJIANG), JINJIANG, {"checkmarks": valid + items}), 400, "validation_error")["errors"]
    assert list(errors) == [key] and message in " ".join(errors[key]), errors
    assert stored(JINJIANG, period) == 0


@pytest.mark.parametrize(
    "body, key",
    [
        ({"checkmarks": []}, "checkmarks"),
        ({"checkmarks": {"3": "done"}}, "checkmarks"),
        ({}, "checkmarks"),
        ([{"number": 3, "status": "done"}], "body"),
        ("√", "body"),
    ],
)
def test_a_body_of_the_wrong_type_is_a_field_error(period, client_for, body, key):
    errors = assert_error(put(client_for(JINJIANG), JINJIANG, body), 400, "validation_error")["errors"]
    assert list(errors) == [key]
    assert stored(JINJIANG, period) == 0


def test_unknown_indicators_and_a_future_month_fail_the_whole_write(period, client_for):
    body = all_done()
    body["checkmarks"] += [{"number": 99, "status": "done"}, {"number": 21, "status": "done"}]
    body["checkmarks"][0]["done_month"] = "2099-01"
    errors = assert_error(put(client_for(JINJIANG), JINJIANG, body), 400, "validation_error")["errors"]
    assert set(errors) == {"1", "21", "99"} and "晚于本月" in errors["1"][0]
    assert stored(JINJIANG, period) == 0 and not AuditEntry.objects.filter(action="set").exists()


def test_province_indicators_use_the_same_endpoint_with_starred_labels(period, client_for):
    client = client_for(SICHUAN)
    body = client.get(CHECKMARKS.format(SICHUAN)).json()
    assert [c["label"] for c in body["checkmarks"]] == ["*21", "*27", "*29", "*30", "*33", "*37", "*38"]
    errors = assert_error(
        put(client, SICHUAN, {"checkmarks": [{"number": 37, "status": "not_done", "expected_month": "2022-09"}]}), 400, "validation_error"
    )["errors"]
    assert list(errors) == ["*37"] and "鼓励性指标" in errors["*37"][0]
    errors = assert_error(
        put(client, SICHUAN, {"checkmarks": [{"number": 21, "status": "done", "done_month": "22-01"}]}), 400, "validation_error"
    )["errors"]
    assert list(errors) == ["*21"]
    response = put(client, SICHUAN, {"checkmarks": [{"number": 21, "status": "done"}, {"number": 37, "status": "done"}]})
    assert response.status_code == 200 and [c["display"] for c in response.json()["checkmarks"][:1]] == ["已完成"]


def test_a_city_has_no_sheet(period, client_for):
    assert_error(client_for(CHENGDU).get(CHECKMARKS.format(CHENGDU)), 404, "not_found")


# Concurrency: ETag and If-Match


def test_a_stale_if_match_is_412_and_changes_nothing(period, client_for, make_user):
    client = client_for(JINJIANG)
    etag = client.get(CHECKMARKS.format(JINJIANG))["ETag"]
    assert put(client_for(JINJIANG), JINJIANG, all_done(), etag=etag).status_code == 200  # another writer first
    body = assert_error(put(client, JINJIANG, {"checkmarks": [{"number": 3, "status": ""}]}, etag=etag), 412, "precondition_failed")
    assert "不是最新内容" in body["message"]
    assert Checkmark.objects.get(region__code=JINJIANG, period=period, indicator__number=3).status == "done"
    fresh = client.get(CHECKMARKS.format(JINJIANG))["ETag"]
    assert fresh == '"1"' and put(client, JINJIANG, {"checkmarks": [{"number": 3, "status": ""}]}, etag=fresh).status_code == 200


def test_if_match_is_required_and_star_overwrites_on_purpose(period, client_for):
    client = client_for(JINJIANG)
    assert_error(put(client, JINJIANG, all_done(), etag=None), 428, "precondition_required")
    assert_error(put(client, JINJIANG, all_done(), etag="3"), 412, "precondition_failed")
    assert stored(JINJIANG, period) == 0
    assert put(client, JINJIANG, all_done(), etag="*").status_code == 200
    assert_error(put(client, JINJIANG, all_done([3]), etag='W/"1"'), 412, "precondition_failed")  # a weak tag never matches a write
    assert put(client, JINJIANG, all_done([3]), etag='"0", "1"').status_code == 200  # a list matches if any tag does


# Locks and review states


def test_a_write_to_a_confirmed_period_is_409_and_changes_nothing(period, client_for, admin):
    client = client_for(JINJIANG)
    put(client, JINJIANG, all_done())
    Submission.objects.create(region=Region.objects.get(code=SICHUAN), period=period, state="confirmed", state_changed_by=admin)
    body = assert_error(put(client, JINJIANG, {"checkmarks": [{"number": 3, "status": ""}]}, etag='"1"'), 409, "conflict")
    assert "确认锁定" in body["message"]
    assert client.get(f"{V1}/periods/2022S1/regions/{JINJIANG}/").json()["locked"] is True
    assert Checkmark.objects.get(region__code=JINJIANG, period=period, indicator__number=3).status == "done"


def test_evidence_upload_is_checked_by_content_and_audited_as_api(period, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(JINJIANG)
    url = f"{V1}/periods/2022S1/regions/{JINJIANG}/checkmarks/8/evidence/"

    def pdf():
        return SimpleUploadedFile("验收单.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf")

    response = client.post(url, {"file": pdf()}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"], body["name"], body["kind"], body["uploaded_by"]) == (8, "验收单.pdf", "pdf", "接口：政务平台510104")
    evidence = Evidence.objects.get(pk=body["id"])
    assert evidence.checkmark.region.code == JINJIANG and evidence.file.read().startswith(b"%PDF")
    entry = AuditEntry.objects.get(action="evidence")
    assert (entry.channel, entry.indicator.number, entry.after) == ("api", 8, "验收单.pdf")
    assert client.get(CHECKMARKS.format(JINJIANG))["ETag"] == '"1"'  # the upload moved the version on

    # A script renamed .pdf is refused by its content; an unknown indicator and a missing file are field errors.
    fake = SimpleUploadedFile("说明.pdf", b"#!/bin/sh\nrm -rf /\n", content_type="application/pdf")
    body = assert_error(client.post(url, {"file": fake}, format="multipart"), 400, "validation_error")
    assert "8" in body["errors"] and "内容" in str(body["errors"])
    body = assert_error(client.post(url.replace("/8/", "/99/"), {"file": pdf()}, format="multipart"), 400, "validation_error")
    assert "99" in body["errors"]
    assert_error(client.post(url, {}, format="multipart"), 400, "validation_error")
    assert_error(client.post(url, {"file": "x"}, format="json"), 415, "unsupported_media_type")
    assert Evidence.objects.count() == 1 and AuditEntry.objects.filter(action="evidence").count() == 1


def test_the_review_flow_through_the_api(period, client_for, admin):
    county, city, province = client_for(JINJIANG), client_for(CHENGDU), client_for(SICHUAN)
    state = f"{V1}/periods/2022S1/regions/{JINJIANG}/"
    body = assert_error(county.post(state + "submit/"), 400, "validation_error")
    assert "尚未填写完整" in body["message"]
    put(county, JINJIANG, all_done())
    response = county.post(state + "submit/")
    assert response.status_code == 200 and response.json()["state"] == "submitted"
    assert_error(put(county, JINJIANG, all_done([3]), etag='"1"'), 409, "conflict")  # submitted: the county waits
    assert_error(county.post(state + "submit/"), 409, "conflict")
    assert_error(city.post(state + "return/", {}, format="json"), 400, "validation_error")
    response = city.post(state + "return/", {"reason": "指标 8 缺少佐证"}, format="json")
    assert (response.json()["state"], response.json()["reason"]) == ("returned", "指标 8 缺少佐证")
    county.post(state + "submit/")
    assert city.post(state + "approve/").json()["state_label"] == "市级已审核"
    others = Region.objects.filter(parent__code=CHENGDU).exclude(code=JINJIANG)
    Submission.objects.bulk_create([Submission(region=r, period=period, state="approved") for r in others])
    assert province.post(f"{V1}/periods/2022S1/regions/{CHENGDU}/accept/").json()["state"] == "accepted"
    assert_error(province.post(f"{V1}/periods/2022S1/regions/{SICHUAN}/confirm/"), 400, "validation_error")
    assert_error(province.post(f"{V1}/periods/2022S1/regions/{SICHUAN}/reopen/", {"reason": "更正"}, format="json"), 409, "conflict")
    assert_error(province.post(f"{V1}/periods/2022S1/regions/{CHENGDU}/confirm/"), 404, "not_found")  # a city is not confirmed
    actions = list(AuditEntry.objects.filter(region__code__in=[JINJIANG, CHENGDU]).exclude(action="set").values_list("action", "channel"))
    assert [a for a, _c in actions] == ["accept", "approve", "submit", "return", "submit"]
    assert {c for _a, c in actions} == {"api"}


def test_region_states_list_and_filters(period, client_for):
    client = client_for(SICHUAN)
    put(client_for(JINJIANG), JINJIANG, all_done())
    client_for(JINJIANG).post(f"{V1}/periods/2022S1/regions/{JINJIANG}/submit/")
    body = client.get(f"{V1}/periods/2022S1/regions/", {"level": "county", "parent": CHENGDU}).json()
    assert body["count"] == Region.objects.filter(parent__code=CHENGDU).count()
    assert {r["state"] for r in body["results"]} == {"draft", "submitted"}
    body = client.get(f"{V1}/periods/2022S1/regions/", {"within": SICHUAN, "state": "submitted"}).json()
    assert [(r["region"]["code"], r["version"]) for r in body["results"]] == [(JINJIANG, 1)]
    errors = assert_error(client.get(f"{V1}/periods/2022S1/regions/", {"state": "done"}), 400, "validation_error")["errors"]
    assert list(errors) == ["state"]
    assert_error(client.get(f"{V1}/periods/2030S1/regions/"), 404, "not_found")


# The error body for everything else


def test_authentication_errors(period, client_for):
    anonymous = APIClient()
    response = anonymous.get(CHECKMARKS.format(JINJIANG))
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-real-secret")
    assert "令牌无效" in assert_error(anonymous.get(CHECKMARKS.format(JINJIANG)), 401, "not_authenticated")["message"]
    anonymous.credentials(HTTP_AUTHORIZATION="Token two parts")
    assert_error(anonymous.get(CHECKMARKS.format(JINJIANG)), 401, "not_authenticated")


def test_read_tokens_only_read(period, client_for):
    client = client_for(JINJIANG, access="read")
    assert client.get(CHECKMARKS.format(JINJIANG)).status_code == 200
    assert "只读令牌" in assert_error(put(client, JINJIANG, all_done()), 403, "permission_denied")["message"]
    assert_error(client.post(f"{V1}/periods/2022S1/regions/{JINJIANG}/submit/"), 403, "permission_denied")
    assert stored(JINJIANG, period) == 0


def test_out_of_scope_is_404_and_in_view_but_not_writable_is_403(period, client_for):
    client = client_for(JINJIANG)
    assert_error(client.get(CHECKMARKS.format(YUZHONG)), 404, "not_found")
    assert_error(put(client, QINGYANG, all_done()), 404, "not_found")
    assert_error(put(client, SICHUAN, {"checkmarks": [{"number": 21, "status": "done"}]}), 403, "permission_denied")
    assert_error(put(client_for(CHENGDU), JINJIANG, all_done()), 403, "permission_denied")
    assert stored(QINGYANG, period) == stored(SICHUAN, period) == stored(JINJIANG, period) == 0


def test_bad_json_wrong_media_type_and_unknown_paths(period, client_for):
    client = client_for(JINJIANG)
    response = client.generic("PUT", CHECKMARKS.format(JINJIANG), "{not json", content_type="application/json", HTTP_IF_MATCH='"0"')
    assert_error(response, 400, "parse_error")
    response = client.generic(
        "PUT", CHECKMARKS.format(JINJIANG), "a=b", content_type="application/x-www-form-urlencoded", HTTP_IF_MATCH='"0"'
    )
    assert_error(response, 415, "unsupported_media_type")
    assert_error(client.delete(CHECKMARKS.format(JINJIANG)), 405, "method_not_allowed")
    assert_error(client.get(f"{V1}/no-such-thing/"), 404, "not_found")
    assert_error(client.get(f"{V1}/periods/2022S1/regions/5101/checkmarks/"), 404, "not_found")


def test_a_body_over_the_limit_is_413_and_changes_nothing(period, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = all_done()
    body["checkmarks"][0]["note"] = "长" * 5000
    response = put(client_for(JINJIANG), JINJIANG, body)
    assert "超过上限 10000 字节" in assert_error(response, 413, "payload_too_large")["message"]
    assert stored(JINJIANG, period) == 0


def test_each_client_has_its_own_rate_limit(period, client_for, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": "2/minute"}}
    first, second = client_for(JINJIANG), client_for(JINJIANG)
    assert [first.get(CHECKMARKS.format(JINJIANG)).status_code for _ in range(2)] == [200, 200]
    response = first.get(CHECKMARKS.format(JINJIANG))
    assert "秒后重试" in assert_error(response, 429, "throttled")["message"]
    assert int(response["Retry-After"]) > 0
    assert second.get(CHECKMARKS.format(JINJIANG)).status_code == 200


def test_session_writes_need_the_csrf_token(period, make_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(make_user("k", "county", JINJIANG))
    assert client.get(CHECKMARKS.format(JINJIANG)).status_code == 200
    assert "CSRF" in assert_error(put(client, JINJIANG, all_done()), 403, "permission_denied")["message"]
    client.cookies["csrftoken"] = secret = "a" * 32
    response = client.put(CHECKMARKS.format(JINJIANG), all_done(), format="json", HTTP_IF_MATCH='"0"', HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 200
    assert AuditEntry.objects.filter(action="set", channel="api").count() == 31


# Lists: pagination and filters


def test_pagination(client_for):
    client = client_for(SICHUAN, access="read")
    body = client.get(f"{V1}/regions/", {"page_size": 10}).json()
    in_province = Region.objects.filter(path__startswith="510000/").count()
    assert body["count"] == in_province and len(body["results"]) == 10 and "page=2" in body["next"] and body["previous"] is None
    assert len(client.get(f"{V1}/regions/", {"page_size": 500}).json()["results"]) == min(500, in_province)
    assert_error(client.get(f"{V1}/regions/", {"page_size": 1000}), 400, "validation_error")  # over the maximum: said, not clamped
    assert len(client.get(f"{V1}/regions/").json()["results"]) == 50
    assert_error(client.get(f"{V1}/regions/", {"page": 999}), 404, "not_found")


def test_region_filters(client_for):
    client = client_for(SICHUAN, access="read")
    body = client.get(f"{V1}/regions/", {"level": "county", "parent": CHENGDU, "page_size": 500}).json()
    assert body["count"] == Region.objects.filter(parent__code=CHENGDU).count()
    assert {r["parent"] for r in body["results"]} == {CHENGDU}
    assert client.get(f"{V1}/regions/", {"name": "锦江"}).json()["results"][0]["code"] == JINJIANG
    assert client.get(f"{V1}/regions/{YUZHONG}/").status_code == 404
    assert client_for(JINJIANG, access="read").get(f"{V1}/regions/").json()["count"] == 3  # itself, its city, its province
    assert list(assert_error(client.get(f"{V1}/regions/", {"level": "town"}), 400, "validation_error")["errors"]) == ["level"]


def test_indicator_sets_indicators_and_periods(period, client_for):
    client = client_for(JINJIANG, access="read")
    sets = {s["code"]: s for s in client.get(f"{V1}/indicator-sets/").json()["results"]}
    assert sets["national-2021"]["indicator_count"] == 38 and sets["national-2021"]["region"] is None
    assert "chongqing-2021" not in sets  # another province's variant
    body = client.get(f"{V1}/indicator-sets/national-2021/indicators/", {"level": "province"}).json()
    assert [i["label"] for i in body["results"]] == ["*21", "*27", "*29", "*30", "*33", "*37", "*38"]
    assert client.get(f"{V1}/periods/2022S1/").json() == {
        "code": "2022S1",
        "label": "2022年上半年",
        "year": 2022,
        "kind": "half",
        "starts": "2022-01-01",
        "ends": "2022-06-30",
        "deadline": "2022-07-15",
        "indicator_set": "national-2021",
        "program": "national-2021",
    }


# 附件3 figures


def test_benefits_put_and_get(period, client_for):
    supply = client_for(SICHUAN, role="supply_company")
    url = f"{V1}/benefits/{SICHUAN}/2022/1/"
    response = supply.put(url, {"residential": {"households": 120, "investment": "35.5"}, "sansheng": {"sales": 12}}, format="json")
    assert response.status_code == 200, response.content
    figures = response.json()["figures"]
    assert figures["residential"] == {"households": 120, "investment": "35.50", "sales": "0.00", "capacity": "0.00"}
    assert figures["sansheng"]["sales"] == "12.00" and figures["other"]["households"] == 0
    assert Benefit.objects.filter(region__code=SICHUAN, year=2022, half=1).count() == 4
    assert client_for(SICHUAN).get(url).json()["figures"] == figures
    listed = client_for(SICHUAN).get(f"{V1}/benefits/", {"category": "residential"}).json()["results"]
    assert [(b["region"], b["households"]) for b in listed] == [(SICHUAN, 120)]


def test_benefits_all_or_nothing(period, client_for):
    supply = client_for(SICHUAN, role="supply_company")
    url = f"{V1}/benefits/{SICHUAN}/2022/1/"
    errors = assert_error(
        supply.put(url, {"residential": {"households": 1.5, "investment": "-1"}, "other": {"sales": "1.234"}}, format="json"),
        400,
        "validation_error",
    )["errors"]
    assert set(errors) == {"residential.households", "residential.investment", "other.sales"}
    assert not Benefit.objects.exists()
    assert_error(client_for(SICHUAN).put(url, {}, format="json"), 403, "permission_denied")
    assert_error(supply.get(f"{V1}/benefits/{SICHUAN}/2022/3/"), 404, "not_found")


# Report jobs


def test_report_job_create_poll_and_download(period, client_for, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(SICHUAN, access="read")
    writer = client_for(SICHUAN)
    assert_error(client.post(f"{V1}/periods/2022S1/regions/{SICHUAN}/report-jobs/"), 403, "permission_denied")
    with django_capture_on_commit_callbacks(execute=True):
        response = writer.post(f"{V1}/periods/2022S1/regions/{SICHUAN}/report-jobs/")
    assert response.status_code == 202 and response.json()["state"] == "queued"
    job = client.get(response["Location"]).json()
    assert (job["state"], job["progress"], job["region"], job["period"]) == ("done", 100, SICHUAN, "2022S1")
    kinds = {s["kind"]: s for s in job["snapshots"]}
    assert set(kinds) == {"attachment2", "attachment3"}
    table = client.get(kinds["attachment2"]["url"]).json()["data"]
    assert table["header"]["title"] == "四川省“获得电力”任务指标完成情况统计表" and table["rows"][0]["kind"] == "province"
    download = client.get(kinds["attachment2"]["xlsx_url"], HTTP_ACCEPT="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert download.status_code == 200 and download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in download["Content-Disposition"]
    workbook = load_workbook(BytesIO(b"".join(download.streaming_content)))
    assert "统计表" in str(workbook.active["A1"].value)
    assert client.get(f"{V1}/report-jobs/", {"period": "2022S1", "state": "done"}).json()["count"] == 1
    assert client.get(f"{V1}/report-snapshots/", {"kind": "attachment3"}).json()["count"] == 1
    assert ReportJob.objects.get().created_by == writer.token.user


def test_national_rollup_job_is_for_the_national_level(
    period, make_user, settings, tmp_path, django_capture_on_commit_callbacks, client_for
):
    settings.MEDIA_ROOT = tmp_path
    assert_error(client_for(SICHUAN).post(f"{V1}/periods/2022S1/report-jobs/"), 403, "permission_denied")
    national = APIClient()
    national.force_login(make_user("n", "national"))
    with django_capture_on_commit_callbacks(execute=True):
        response = national.post(f"{V1}/periods/2022S1/report-jobs/")
    job = national.get(response["Location"]).json()
    assert (job["state"], job["region"], [s["kind"] for s in job["snapshots"]]) == ("done", None, ["national"])
    assert national.get(f"{V1}/report-snapshots/", {"national": "true"}).json()["count"] == 1
    assert client_for(SICHUAN, access="read").get(f"{V1}/report-snapshots/").json()["count"] == 0


# The schema and its docs


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/periods/{code}/regions/{region_code}/checkmarks/" in (tmp_path / "schema.yaml").read_text()


def test_schema_and_docs_are_served_without_any_cdn(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    document = json.loads(schema.content)
    operation = document["paths"]["/api/v1/periods/{code}/regions/{region_code}/checkmarks/"]["put"]
    assert {"400", "401", "403", "404", "409", "412", "413", "428", "429"} <= set(operation["responses"])
    assert operation["tags"] == ["指标填报"]
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs


def test_every_schema_field_and_parameter_is_described_in_chinese(client):
    document = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/json").content)
    missing = [
        f"{name}.{field}"
        for name, component in document["components"]["schemas"].items()
        for field, spec in component.get("properties", {}).items()
        if not any("\u4e00" <= ch <= "\u9fff" for ch in spec.get("description", "")) and "$ref" not in spec and "allOf" not in spec
    ]
    missing += [
        f"{path} {method} {p['name']}"
        for path, item in document["paths"].items()
        for method, op in item.items()
        for p in op.get("parameters", [])
        if not any("\u4e00" <= ch <= "\u9fff" for ch in p.get("description", ""))
    ]
    missing += [
        f"{path} {method}"
        for path, item in document["paths"].items()
        for method, op in item.items()
        if not any("\u4e00" <= ch <= "\u9fff" for ch in op.get("summary", ""))
    ]
    assert missing == []
