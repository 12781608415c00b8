"""The admin, in Chinese, goes through the same region scoping."""

import pytest

from accounts.models import User
from accounts.services import demo_users_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def province_client(client):
    demo_users_create()
    client.force_login(User.objects.get(username="demo_province"))
    return client


def test_admin_is_in_chinese(province_client):
    page = province_client.get("/admin/").content.decode()
    assert "获得电力台账 管理后台" in page
    assert "用户" in page and "任务台账" in page


def test_user_list_shows_only_the_province(province_client, make_user):
    make_user("chongqing_county", "county", "500103")
    page = province_client.get("/admin/accounts/user/").content.decode()
    assert "demo_county" in page and "demo_city" in page
    assert "chongqing_county" not in page and "demo_national" not in page


def test_another_provinces_user_cannot_be_opened_or_changed(province_client, make_user):
    other = make_user("chongqing_county", "county", "500103")
    response = province_client.get(f"/admin/accounts/user/{other.pk}/change/")
    assert response.status_code == 302  # the admin says the object does not exist
    response = province_client.post(f"/admin/accounts/user/{other.pk}/delete/", {"post": "yes"})
    assert User.objects.filter(pk=other.pk).exists()


def test_moving_a_user_out_of_the_province_is_refused(province_client):
    county = User.objects.get(username="demo_county")
    data = {
        "username": county.username,
        "role": "county",
        "region": "500103",
        "is_active": "on",
        "last_name": county.last_name,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = province_client.post(f"/admin/accounts/user/{county.pk}/change/", data)
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    county.refresh_from_db()
    assert county.region.code == "510104"


def test_region_list_is_limited(province_client):
    page = province_client.get("/admin/accounts/region/?q=市中区").content.decode()
    assert page.count("市中区") >= 2  # 乐山 and 内江
    page = province_client.get("/admin/accounts/region/?q=渝中区").content.decode()
    assert "500103" not in page


def test_the_save_recheck_rolls_back_an_object_moved_out_of_scope(rf):
    """Even when a form lets an out-of-scope value through, the save is undone inside the transaction."""
    from django.contrib.admin.sites import site
    from django.core.exceptions import PermissionDenied
    from django.db import transaction

    from accounts.models import Region

    demo_users_create()
    province = User.objects.get(username="demo_province")
    county = User.objects.get(username="demo_county")
    request = rf.post("/")
    request.user = province
    county.region = Region.objects.get(code="500103")
    with pytest.raises(PermissionDenied), transaction.atomic():
        site._registry[User].save_model(request, county, form=None, change=True)
    county.refresh_from_db()
    assert county.region.code == "510104"
