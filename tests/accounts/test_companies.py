"""Power-supply companies and their units (accounts.Company, accounts.OrgUnit): who manages them in
the admin, a service area of one level in the company's province, and a supply user's company.

Regions: 四川 510000 ⊃ 成都 510100 ⊃ 锦江 510104, 绵阳 510700; 重庆 500000.
"""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import Company, OrgUnit, Region, User
from accounts.services import user_save

pytestmark = pytest.mark.django_db

PASSWORD = "Xy#9pass-word"


def region(code):
    return Region.objects.get(code=code)


@pytest.fixture
def sichuan_grid():
    company = Company.objects.create(name="国网四川省电力公司", code="sgcc-sc", province=region("510000"))
    company.service_area.set([region("510100"), region("510700")])
    return company


@pytest.fixture
def chongqing_grid():
    company = Company.objects.create(name="国网重庆市电力公司", code="sgcc-cq", province=region("500000"))
    company.service_area.set([region("500000")])
    return company


def admin_client(make_user, code="510000"):
    client = Client()
    client.force_login(make_user(f"admin-{code}", "province", code, is_staff=True))
    return client


def company_form(**fields):
    return {
        "name": "四川地方电力公司",
        "code": "sc-local",
        "province": region("510000").pk,
        "service_area": [region("510104").pk],
        "units-TOTAL_FORMS": "0",
        "units-INITIAL_FORMS": "0",
        **fields,
    }


def test_a_province_admin_manages_the_companies_of_its_province_only(make_user, sichuan_grid, chongqing_grid):
    client = admin_client(make_user)
    listed = client.get("/admin/accounts/company/").content.decode()
    assert "国网四川省电力公司" in listed and "国网重庆市电力公司" not in listed
    assert client.get(f"/admin/accounts/company/{sichuan_grid.pk}/change/").status_code == 200
    assert client.get(f"/admin/accounts/company/{chongqing_grid.pk}/change/").status_code in (302, 403, 404)
    response = client.post("/admin/accounts/company/add/", company_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    made = Company.objects.get(code="sc-local")
    assert [r.code for r in made.service_area.all()] == ["510104"]
    # Another province's company cannot be made from 四川.
    response = client.post("/admin/accounts/company/add/", company_form(code="cq-x", name="x", province=region("500000").pk))
    assert response.status_code == 200 and not Company.objects.filter(code="cq-x").exists()
    # Units: the admin, scoped the same way.
    OrgUnit.objects.create(company=sichuan_grid, name="营销部")
    OrgUnit.objects.create(company=chongqing_grid, name="巡察办")
    units = client.get("/admin/accounts/orgunit/").content.decode()
    assert "营销部" in units and "巡察办" not in units


def test_the_admin_refuses_a_service_area_of_two_levels_without_an_error_page(make_user):
    client = admin_client(make_user)
    response = client.post("/admin/accounts/company/add/", company_form(service_area=[region("510100").pk, region("510104").pk]))
    page = response.content.decode()
    assert response.status_code == 200 and "供电服务区域必须是同一层级" in page and "地市级：成都市；县级：锦江区" in page
    assert not Company.objects.filter(code="sc-local").exists()


def test_a_new_supply_user_names_its_company_old_ones_stay_valid(sichuan_grid, chongqing_grid):
    with pytest.raises(ValidationError) as refused:
        user_save(username="new", password=PASSWORD, role="supply_company", region=region("510000"))
    assert refused.value.message_dict == {"company": ["供电企业用户必须选择所属供电企业。"]}
    made = user_save(username="new", password=PASSWORD, role="supply_company", region=region("510000"), company=sichuan_grid)
    assert made.company == sichuan_grid
    # A user made before companies existed: still valid, still saved.
    old = User.objects.create(username="old", role="supply_company", region=region("510000"))
    old.full_clean(exclude=["password"])
    # The company is of the user's province; only supply users have one; a unit is of the company.
    with pytest.raises(ValidationError, match="不在国网重庆市电力公司所在的重庆市"):
        user_save(username="x", password=PASSWORD, role="supply_company", region=region("510000"), company=chongqing_grid)
    with pytest.raises(ValidationError, match="只有供电企业用户可以选择所属供电企业"):
        user_save(username="y", password=PASSWORD, role="county", region=region("510104"), company=sichuan_grid)
    unit = OrgUnit.objects.create(company=chongqing_grid, name="营销部")
    with pytest.raises(ValidationError, match="单位“营销部”不属于国网四川省电力公司"):
        user_save(username="z", password=PASSWORD, role="supply_company", region=region("510000"), company=sichuan_grid, org_unit=unit)


def test_a_unit_sits_in_its_companys_tree(sichuan_grid, chongqing_grid):
    marketing = OrgUnit.objects.create(company=sichuan_grid, name="营销部")
    district = OrgUnit(company=sichuan_grid, name="锦江供电中心", kind="district_company", parent=marketing)
    district.full_clean()
    district.save()
    marketing.parent = district
    with pytest.raises(ValidationError, match="上级单位不能是本单位或其下级单位"):
        marketing.full_clean()
    with pytest.raises(ValidationError, match="不属于同一供电企业"):
        OrgUnit(company=chongqing_grid, name="x", parent=marketing).full_clean()
