"""Reliability figures in the change feed (issue 16 §1): each stored figure is one
``reliability.changed`` event, seen by a token of its province and not by another province's."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import ChangeEvent, Region
from accounts.services import api_token_create
from indicators.services import period_open
from reporting import reliability
from tests.helpers import V1

pytestmark = pytest.mark.django_db

JINJIANG, QINGYANG, CHENGDU, SICHUAN, NINGXIA = "510104", "510105", "510100", "510000", "640000"


@pytest.fixture
def period(db):
    return period_open(code="2022S1")[0]


@pytest.fixture
def officials(make_user):
    return {code: make_user(f"official{code}", "province", code) for code in (SICHUAN, NINGXIA)} | {
        CHENGDU: make_user("chengdu", "city", CHENGDU)
    }


def feed(official):
    """The events a read token of ``official``'s province receives from the start."""
    cache.clear()  # throttle counts from earlier requests
    _token, secret = api_token_create(user=official, name="政务平台", region=official.region, access="read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    response = client.get(f"{V1}/changes/")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_stored_figure_is_one_event_in_its_province_s_feed_only(officials, period):
    figure = reliability.Figure(where="第 2 行", region=JINJIANG, saidi="1.25", saifi="0.5", source="可靠性中心")
    reliability.reliability_set(user=officials[CHENGDU], year=period.year, kind=period.kind, figures=[figure])

    (event,) = feed(officials[SICHUAN])
    assert (event["type"], event["region"], event["channel"]) == ("reliability.changed", JINJIANG, "web")
    assert event["object"] == f"{V1}/periods/2022S1/regions/{CHENGDU}/scorecard/"  # the city's scorecard shows it
    assert event["data"] == {"region": JINJIANG, "year": 2022, "kind": "half", "saidi": "1.250", "saifi": "0.500", "source": "可靠性中心"}
    assert feed(officials[NINGXIA]) == []
    assert ChangeEvent.objects.count() == 1


def test_an_upload_is_one_event_a_row_and_a_refused_one_none(client, officials, period):
    client.force_login(officials[CHENGDU])
    url = f"/reporting/scorecard/reliability/?period={period.code}&region={CHENGDU}"
    bad = f"行政区划代码,SAIDI,SAIFI,数据来源\n{JINJIANG},1,1,中心\n{QINGYANG},x,1,中心\n".encode()
    assert client.post(url, {"file": SimpleUploadedFile("r.csv", bad)}).status_code == 400
    with pytest.raises(ValidationError):
        reliability.reliability_set(user=officials[CHENGDU], year=2022, kind="half", figures=[])
    assert not ChangeEvent.objects.exists()
    good = f"行政区划代码,SAIDI,SAIFI,数据来源\n{JINJIANG},1,1,中心\n{CHENGDU},2,1,中心\n".encode()
    assert client.post(url, {"file": SimpleUploadedFile("r.csv", good)}).status_code == 302
    events = feed(officials[SICHUAN])
    assert [(e["region"], e["channel"], e["object"]) for e in events] == [
        (JINJIANG, "import", f"{V1}/periods/2022S1/regions/{CHENGDU}/scorecard/"),
        (CHENGDU, "import", f"{V1}/periods/2022S1/regions/{CHENGDU}/scorecard/"),
    ]
    assert Region.objects.get(code=CHENGDU).reliabilities.get().saidi == 2
