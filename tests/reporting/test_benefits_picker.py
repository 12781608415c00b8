"""附件3's period picker (issue 17 §5): one select of half-years, written like the period codes
(2022S1 上半年, 2022S2 下半年), consistent with the other pages' period switchers."""

import pytest
from django.utils import timezone

from reporting.models import Benefit

pytestmark = pytest.mark.django_db

PAGE = "/reporting/benefits/"


@pytest.fixture
def supply(client, make_user):
    client.force_login(make_user("s", "supply_company", "640100"))
    return client


def test_one_select_of_half_years_newest_first(supply, period):
    today = timezone.localdate()
    page = supply.get(PAGE).content.decode()
    assert 'name="year"' not in page and 'name="half"' not in page
    picker = page[page.index('<select name="period">') : page.index("</select>", page.index('<select name="period">'))]
    current = f"{today.year}S{1 if today.month <= 6 else 2}"
    assert f'<option value="{current}" selected>' in picker
    codes = [chunk.split('"')[0] for chunk in picker.split('value="')[1:]]
    assert codes[0] == current and codes[-1] == "2022S1"  # back to the first national period's year
    assert "2022年下半年" in picker


def test_the_half_year_picked_is_the_one_saved(supply, period):
    page = supply.get(PAGE, {"period": "2022S2"}).content.decode()
    assert "2022年下半年" in page and '<option value="2022S2" selected>' in page
    response = supply.post(f"{PAGE}?period=2022S2", {"residential-households": "7"})
    assert response.status_code == 302
    assert Benefit.objects.get(category="residential").half == 2


@pytest.mark.parametrize("code", ["2022S3", "2022", "x", "2022S1'"])
def test_an_unknown_half_year_is_a_404(supply, code):
    assert supply.get(PAGE, {"period": code}).status_code == 404
