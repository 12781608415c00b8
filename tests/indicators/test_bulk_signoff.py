"""Sign-off in bulk on the province page (issue 17 §4): a refusal is summed up on top with the
counties left per city; exceptions are named per city (该市其余县全部例外) or for all remaining
counties with one reason, and each county is still stored, listed and audited one by one.

四川 510000: 成都 510100 and 绵阳 510700 keep their counties open, every other county is approved
and every other city accepted; the province indicators are filled."""

from datetime import date

import pytest
from django.utils import timezone

from accounts.models import Region
from indicators import review, services
from indicators.models import AuditEntry, SignoffException, Submission
from indicators.services import CheckmarkValue
from tests.helpers import CHENGDU, JINJIANG, QINGYANG, SICHUAN

pytestmark = pytest.mark.django_db

MIANYANG, FUCHENG = "510700", "510703"
PAGE = f"/periods/2022S1/province/{SICHUAN}/"


@pytest.fixture
def province(make_user, period):
    user = make_user("p", "province", SICHUAN, last_name="省能源局")
    open_cities = (CHENGDU, MIANYANG)
    counties = Region.objects.filter(level="county", path__startswith=f"{SICHUAN}/").exclude(parent__code__in=open_cities)
    now = timezone.now()
    Submission.objects.bulk_create([Submission(region=c, period=period, state="approved", state_changed_at=now) for c in counties])
    for city in Region.objects.filter(parent__code=SICHUAN).exclude(code__in=open_cities):
        review.city_accept(user=user, region=city, period=period)
    services.checkmarks_set(
        user=user,
        region=Region.objects.get(code=SICHUAN),
        period=period,
        values=dict.fromkeys((21, 27, 29, 30, 33), CheckmarkValue("done")),
        today=date(2022, 7, 5),
    )
    return user


def counties_of(code):
    return list(Region.objects.filter(parent__code=code).order_by("code").values_list("code", flat=True))


def test_a_refused_confirm_is_summed_up_on_top_per_city(client, province, period):
    client.force_login(province)
    response = client.post(PAGE, {"action": "confirm"})
    assert response.status_code == 400
    page = response.content.decode()
    top = page.index('id="refusal"')
    assert top < page.index("<h2>各地市</h2>")
    summary = page[top : page.index("</section>", top)]
    assert 'role="alert"' in page[top - 60 : top + 60]
    total = len(counties_of(CHENGDU)) + len(counties_of(MIANYANG))
    assert f"尚有 {total} 个县未经市级审核、也未列为例外" in summary
    assert f'<a href="#rest-{CHENGDU}">成都市</a>：{len(counties_of(CHENGDU))} 个县' in summary
    assert f'<a href="#rest-{MIANYANG}">绵阳市</a>：{len(counties_of(MIANYANG))} 个县' in summary
    assert 'href="#confirm"' in summary
    assert f'id="rest-{CHENGDU}"' in page  # the anchor is the city's row of the table
    assert Submission.objects.get(region__code=SICHUAN, period=period).state == "draft"


def test_confirm_naming_whole_cities_stores_each_county_one_by_one(client, province, period):
    client.force_login(province)
    body = {
        "action": "confirm",
        "rest_city": [CHENGDU],
        f"rest_reason_{CHENGDU}": "成都市审核人员空缺",
        "exception": [FUCHENG],
        f"reason_{FUCHENG}": "涪城区受灾",
        "rest_all": "1",
        "rest_reason": "绵阳市系统升级",
    }
    response = client.post(PAGE, body)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Submission.objects.get(region__code=SICHUAN, period=period).state == "confirmed"
    named = dict(SignoffException.objects.values_list("county__code", "reason"))
    expected = dict.fromkeys(counties_of(CHENGDU), "成都市审核人员空缺") | dict.fromkeys(counties_of(MIANYANG), "绵阳市系统升级")
    expected[FUCHENG] = "涪城区受灾"  # its own reason wins over the bulk one
    assert named == expected
    audit = AuditEntry.objects.get(action="confirm", region__code=SICHUAN)
    assert "锦江区（成都市审核人员空缺）" in audit.reason and "涪城区（涪城区受灾）" in audit.reason
    page = client.get(PAGE).content.decode()
    assert "锦江区</a>（例外）：成都市审核人员空缺" in page and "青羊区</a>（例外）：成都市审核人员空缺" in page


def test_a_bulk_choice_without_its_reason_is_refused_at_its_field(client, province, period):
    client.force_login(province)
    response = client.post(PAGE, {"action": "confirm", "rest_city": [CHENGDU], "rest_all": "1", "rest_reason": " "})
    assert response.status_code == 400
    page = response.content.decode()
    row = page[page.index(f'id="rest-{CHENGDU}"') :]
    row = row[: row.index("</tr>")]
    assert "请写明成都市其余县列为例外的原因。" in row and "checked" in row
    assert "请写明其余县列为例外的原因。" in page
    assert not SignoffException.objects.exists()
    assert Submission.objects.get(region__code=SICHUAN, period=period).state == "draft"


def test_accept_a_city_with_all_its_remaining_counties_named(client, province, period):
    client.force_login(province)
    body = {"action": "accept", "city": CHENGDU, "exception": [JINJIANG], f"reason_{JINJIANG}": "锦江区受灾"}
    response = client.post(PAGE, body)
    assert response.status_code == 400
    page = response.content.decode()
    summary = page[page.index('id="refusal"') :]
    assert f'<a href="#city-{CHENGDU}">成都市</a>：{len(counties_of(CHENGDU)) - 1} 个县' in summary
    row = page[page.index(f'data-county="{JINJIANG}"') :]
    assert "checked" in row[: row.index("</tr>")] and "锦江区受灾" in row[: row.index("</tr>")]  # what was typed is kept

    response = client.post(PAGE, body | {"rest_all": "1", "rest_reason": "系统升级，数据延后"})
    assert response.status_code == 302
    assert Submission.objects.get(region__code=CHENGDU, period=period).state == "accepted"
    named = dict(SignoffException.objects.values_list("county__code", "reason"))
    assert named[JINJIANG] == "锦江区受灾" and named[QINGYANG] == "系统升级，数据延后"
    assert set(named) == set(counties_of(CHENGDU))
