"""Login, home and ledger pages, each through region scoping."""

import pytest

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese(client):
    page = client.get("/login/").content.decode()
    assert 'lang="zh-hans"' in page and "登录" in page and "用户名" in page


def test_pages_require_login(client):
    assert client.get("/").status_code == 302
    assert client.get("/ledgers/").url.startswith("/login/")


def test_wrong_password_is_told_in_chinese(client, make_user):
    make_user("k", "county", "510104")
    page = client.post("/login/", {"username": "k", "password": "wrong"}).content.decode()
    assert "请输入一个正确的" in page


def test_county_home_lists_what_is_in_scope(client, make_user):
    client.force_login(make_user("k", "county", "510104"))
    page = client.get("/").content.decode()
    assert "四川省 成都市 锦江区" in page
    assert "四川省2022年全面提升" in page and "全面提升“获得电力”服务水平工作任务台账" in page
    assert "重庆市全面提升" not in page and "贵阳市" not in page


def test_the_worker_heartbeat_is_for_officials_not_county_clerks(client, make_user):
    client.force_login(make_user("k", "county", "510104"))
    assert "后台任务" not in client.get("/").content.decode()
    client.force_login(make_user("sc", "province", "510000"))
    assert "后台任务：" in client.get("/").content.decode()


def test_ledger_detail_is_scoped(client, make_user):
    client.force_login(make_user("k", "county", "510104"))
    assert client.get("/ledgers/chongqing-2021/").status_code == 404
    page = client.get("/ledgers/sichuan-2022/").content.decode()
    assert "年度重点举措" in page and "主动作为/发挥作用" in page
    assert "2021-04-30" in page


def test_health(client):
    assert client.get("/health/").json() == {"status": "ok"}
