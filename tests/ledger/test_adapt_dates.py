"""Ledger adaptation asks for the new year's deadlines (issue 17 §10): shifted by whole years or
rewritten item by item, shown as a preview before the ledger is made; a milestone is never
offered with a date already past."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Region
from ledger import services
from ledger.forms import milestone_default, shifted
from ledger.models import Ledger, LedgerItem

pytestmark = pytest.mark.django_db

ADAPT = "/ledgers/national-2021/adapt/"


@pytest.fixture
def province(make_user):
    return make_user("sc", "province", "510000", last_name="省能源局")


@pytest.fixture
def national():
    return Ledger.objects.get(code="national-2021")


@pytest.mark.parametrize(
    ("text", "years", "expected"),
    [
        ("2020 年底前", 6, "2026 年底前"),
        ("2021年4月底前", 1, "2022年4月底前"),
        ("2021年5月15日前；2022年6月", 2, "2023年5月15日前；2024年6月"),
        ("6月底前", 3, "6月底前"),  # read in the ledger's own year
        ("持续推进", 5, "持续推进"),
    ],
)
def test_a_due_text_is_shifted_by_whole_years(text, years, expected):
    assert shifted(text, years) == expected


def test_the_page_shows_the_shifted_deadlines_before_anything_is_made(client, province, national):
    client.force_login(province)
    year = timezone.localdate().year
    page = client.get(ADAPT).content.decode()
    assert f'name="years" value="{year - 2021}"' in page
    assert f'name="due_2" value="{2020 + year - 2021} 年底前"' in page and 'name="due_57" value="持续推进"' in page
    assert "确认制定台账" in page

    response = client.post(ADAPT, {"year": "2026", "name": "", "years": "0", "shown": f"{year}/{year - 2021}", "action": "preview"})
    page = response.content.decode()
    assert response.status_code == 200 and 'name="due_2" value="2020 年底前"' in page
    row = page[page.index('id="due-2"') :]
    assert "2020-12-31" in row[: row.index("</tr>")] and "已过" in row[: row.index("</tr>")]  # a deadline already missed is marked
    assert not Ledger.objects.filter(source__code="national-2021").exists()


def test_confirm_saves_the_deadlines_shown_and_rewritten(client, province, national):
    client.force_login(province)
    body = {"year": "2027", "name": "", "years": "6", "shown": "2027/6", "action": "confirm", "due_3": "2027年3月底前"}
    response = client.post(ADAPT, body)
    assert response.status_code == 302
    ledger = Ledger.objects.get(region__code="510000", year=2027)
    items = {i.number: i for i in ledger.items.all()}
    assert len(items) == 57
    assert (items[3].due_text, items[3].due_date) == ("2027年3月底前", date(2027, 3, 31))
    assert (items[1].due_text, items[1].due_date) == ("2028 年底前", date(2028, 12, 31))
    assert (items[2].due_text, items[2].due_date) == ("2026 年底前", date(2026, 12, 31))
    assert items[57].ongoing and items[57].due_date is None
    assert national.items.get(number=1).due_text == "2022 年底前"  # the source stays as written


def test_a_confirm_after_changing_the_shift_shows_the_preview_again(client, province, national):
    client.force_login(province)
    response = client.post(ADAPT, {"year": "2027", "name": "", "years": "6", "shown": "2027/5", "action": "confirm"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "年度或平移年数已改" in page and 'name="due_2" value="2026 年底前"' in page and 'name="shown" value="2027/6"' in page
    assert not Ledger.objects.filter(source__code="national-2021").exists()


def test_an_unreadable_deadline_is_refused_at_its_row(client, province, national):
    client.force_login(province)
    body = {"year": "2027", "name": "", "years": "6", "shown": "2027/6", "action": "confirm", "due_4": "尽快"}
    response = client.post(ADAPT, body)
    assert response.status_code == 400
    page = response.content.decode()
    row = page[page.index('id="due-4"') :]
    assert "无法识别完成时间“尽快”" in row[: row.index("</tr>")] and 'value="尽快"' in row[: row.index("</tr>")]
    assert not Ledger.objects.filter(source__code="national-2021").exists()


def test_the_service_checks_each_new_deadline_and_stores_nothing_on_a_bad_one(province, national):
    sichuan = Region.objects.get(code="510000")
    before = LedgerItem.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.ledger_adapt(user=province, region=sichuan, year=2027, source=national, due_texts={4: "尽快", 5: " "})
    assert set(refused.value.message_dict) == {"due_4", "due_5"}
    assert refused.value.message_dict["due_4"][0].startswith("第 4 项：无法识别完成时间“尽快”")
    assert LedgerItem.objects.count() == before and not Ledger.objects.filter(source=national).exists()


@pytest.mark.parametrize(
    ("due", "today", "expected"),
    [
        (date(2027, 3, 31), date(2026, 12, 4), date(2027, 3, 31)),  # ahead: the deadline itself
        (date(2020, 12, 31), date(2026, 12, 4), date(2026, 12, 31)),  # past: the end of this half-year
        (date(2020, 12, 31), date(2026, 3, 1), date(2026, 6, 30)),
        (None, date(2026, 3, 1), None),  # ongoing: left empty
    ],
)
def test_a_milestone_never_defaults_to_a_past_date(due, today, expected):
    assert milestone_default(due, today) == expected


def test_the_assign_form_offers_no_past_milestone(client, province, national):
    sichuan = Region.objects.get(code="510000")
    ledger = services.ledger_adapt(user=province, region=sichuan, year=2022, source=national)  # deadlines of 2020–2022 kept
    client.force_login(province)
    page = client.get(f"/ledgers/{ledger.code}/items/2/").content.decode()
    today = timezone.localdate()
    assert 'value="2020-12-31"' not in page
    assert f'value="{milestone_default(date(2020, 12, 31), today):%Y-%m-%d}"' in page
