"""Fixtures of the accounts tests: 宁夏 (640000), its people and its API clients, for the change feed."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Region
from accounts.services import api_token_create

NINGXIA, YINCHUAN, SHIZUISHAN = "640000", "640100", "640200"
XINGQING, JINFENG, DAWUKOU, HUINONG = "640104", "640106", "640202", "640205"


@pytest.fixture
def nx(make_user):
    """宁夏's people: the province, two cities' reviewers and a filler per county of those cities."""
    people = {
        "province": make_user("nx", "province", NINGXIA, last_name="宁夏能源局"),
        YINCHUAN: make_user("yc", "city", YINCHUAN, last_name="银川审核员"),
        SHIZUISHAN: make_user("szs", "city", SHIZUISHAN, last_name="石嘴山审核员"),
    }
    for county in Region.objects.filter(parent__code__in=[YINCHUAN, SHIZUISHAN]):
        people[county.code] = make_user(f"c{county.code}", "county", county.code, last_name=f"{county.name}填报员")
    return people


@pytest.fixture
def feed_client(nx):
    """``feed_client(code, access="read")``: an APIClient holding a new token of that region of 宁夏."""
    cache.clear()  # throttle counts from earlier tests

    def make(code, access="read"):
        token, secret = api_token_create(user=nx["province"], name=f"政务平台{code}", region=Region.objects.get(code=code), access=access)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        client.token = token
        return client

    return make
