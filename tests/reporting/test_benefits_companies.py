"""附件3 per supply company, counted once (issue 13 §4): service areas of one level, two companies
in one county, the province table against a hand computation, the migration of the rows entered
before companies existed, and the workbook's breakdown sheet read back cell by cell."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from openpyxl import load_workbook

from accounts.models import Company, Region
from indicators import services as marks
from reporting import excel, layout, services
from reporting.benefit_migration import BenefitSplitRefused, benefits_companies_assign
from reporting.models import Benefit
from reporting.selectors import attachment3_breakdown
from reporting.tables import build_attachment3

SICHUAN, CHENGDU, JINJIANG, QINGYANG, MIANYANG, JIANGYOU = "510000", "510100", "510104", "510105", "510700", "510781"
BREAKDOWN = "按供电企业和地市分列"

pytestmark = pytest.mark.django_db


def regions(*codes):
    found = Region.objects.in_bulk(codes, field_name="code")
    return [found[code] for code in codes]


def company(code, name, *areas):
    made = Company.objects.create(code=code, name=name, province=Region.objects.get(code=SICHUAN))
    made.service_area.set(regions(*areas))
    return made


def enter(user, code, half, figures, year=2022):
    services.benefits_set(user=user, region=Region.objects.get(code=code), year=year, half=half, figures=figures)


def households(table):
    return table.rows[0]


@pytest.fixture
def full_year(period):
    return marks.period_open(code="2022")[0]  # the national program's, as the ``period`` fixture


# --- counted once ---------------------------------------------------------------------------------


def test_two_companies_serving_one_county_both_count(period, make_user):
    grid = make_user("grid", "supply_company", SICHUAN, company=company("grid", "国网四川省电力公司", JINJIANG))
    local = make_user("local", "supply_company", SICHUAN, company=company("local", "锦江地方电力公司", JINJIANG))
    enter(grid, JINJIANG, 1, {("residential", "households"): "100", ("residential", "investment"): "1.25"})
    enter(local, JINJIANG, 1, {("residential", "households"): "50", ("residential", "investment"): "0.50"})
    # Each saves its own row: the second does not overwrite the first.
    enter(grid, JINJIANG, 1, {("residential", "households"): "120", ("residential", "investment"): "1.25"})
    assert Benefit.objects.filter(region__code=JINJIANG, category="residential").count() == 2
    table = services.attachment3_compile(province=Region.objects.get(code=SICHUAN), period=period)
    assert households(table) == ("受益户数（户）", ["170", "0", "0", "0"], "170")
    assert table.rows[1] == ("节省投资（万元）", ["1.75", "0.00", "0.00", "0.00"], "1.75")
    assert [(b["company"], b["city"], b["rows"][0][2]) for b in table.breakdown] == [
        ("国网四川省电力公司", "成都市", "120"),
        ("锦江地方电力公司", "成都市", "50"),
        ("合计", "四川省", "170"),
    ]


@pytest.fixture
def two_levels(make_user):
    """A city-level company (成都市, 绵阳市) and a county-level one (锦江区, 青羊区 in 成都市; 江油市 in 绵阳市)."""
    city = make_user("city", "supply_company", SICHUAN, company=company("a-city", "国网四川省电力公司", CHENGDU, MIANYANG))
    county = make_user("county", "supply_company", SICHUAN, company=company("b-county", "四川县域供电公司", JINJIANG, QINGYANG, JIANGYOU))
    enter(
        city, CHENGDU, 1, {("residential", "households"): "1000", ("residential", "investment"): "10.25", ("sansheng", "capacity"): "3.5"}
    )
    enter(city, MIANYANG, 1, {("residential", "households"): "400", ("small_business", "investment"): "2.10"})
    enter(county, JINJIANG, 1, {("residential", "households"): "30", ("residential", "investment"): "0.75"})
    enter(county, QINGYANG, 1, {("other", "sales"): "12.34"})
    enter(county, JIANGYOU, 1, {("residential", "households"): "5"})
    enter(city, CHENGDU, 2, {("residential", "households"): "200"})
    enter(county, JINJIANG, 2, {("residential", "households"): "7"})
    return city, county


def test_a_city_level_and_a_county_level_company_against_a_hand_computation(period, full_year, two_levels, django_assert_num_queries):
    sichuan = Region.objects.get(code=SICHUAN)
    h1 = services.attachment3_compile(province=sichuan, period=period)
    # By hand: households 1000 + 400 + 30 + 5; investment 10.25 + 0.75 (居民) and 2.10 (企业);
    # sales 12.34 (其他); capacity 3.50 (三省).
    assert h1.rows == [
        ("受益户数（户）", ["1435", "0", "0", "0"], "1435"),
        ("节省投资（万元）", ["11.00", "2.10", "0.00", "0.00"], "13.10"),
        ("增加售电量（万千瓦时）", ["0.00", "0.00", "12.34", "0.00"], "12.34"),
        ("增加容量（万千瓦安）", ["0.00", "0.00", "0.00", "3.50"], "3.50"),
    ]
    # The year: both halves, 1435 + 200 + 7.
    assert households(services.attachment3_compile(province=sichuan, period=full_year)) == (
        "受益户数（户）",
        ["1642", "0", "0", "0"],
        "1642",
    )
    # Per company and city, the county company's counties under their cities.
    with django_assert_num_queries(1):  # summed in the database, however many companies and counties
        blocks = attachment3_breakdown(province=sichuan, period=period)
    assert [(name, city) for name, city, _t in blocks] == [
        ("国网四川省电力公司", "成都市"),
        ("国网四川省电力公司", "绵阳市"),
        ("四川县域供电公司", "成都市"),
        ("四川县域供电公司", "绵阳市"),
    ]
    assert blocks[2][2][("households", "residential")] == 30 and blocks[2][2][("sales", "other")] == Decimal("12.34")


def test_the_double_count_of_the_issue_now_gives_the_right_total(client, period, full_year, make_user):
    """Issue 13: cities' 81,124 (H1) and 70,916 (H2); a province-level user typed 2,650 at the
    province and the year showed 154,690. Now the company enters at its cities' level only."""
    grid = company("grid", "国网四川省电力公司", CHENGDU, MIANYANG)
    clerk = make_user("clerk", "supply_company", SICHUAN, company=grid)
    enter(clerk, CHENGDU, 1, {("residential", "households"): "50000"})
    enter(clerk, MIANYANG, 1, {("residential", "households"): "31124"})
    enter(clerk, CHENGDU, 2, {("residential", "households"): "40000"})
    enter(clerk, MIANYANG, 2, {("residential", "households"): "30916"})

    # The province-level user no longer sees an empty form: its company's first city, as entered.
    client.force_login(clerk)
    page = client.get("/reporting/benefits/?year=2022&half=1").content.decode()
    assert "国网四川省电力公司 · 成都市" in page and 'value="50000"' in page and "在地市级填报" in page
    response = client.post(f"/reporting/benefits/?year=2022&half=2&region={SICHUAN}", {"residential-households": "2650"})
    assert response.status_code == 400
    assert "四川省不在国网四川省电力公司的供电服务区域内。" in response.content.decode()
    with pytest.raises(ValidationError, match="四川省不在国网四川省电力公司的供电服务区域内"):
        enter(clerk, SICHUAN, 2, {("residential", "households"): "2650"})
    assert not Benefit.objects.filter(region__code=SICHUAN).exists()

    sichuan = Region.objects.get(code=SICHUAN)
    assert households(services.attachment3_compile(province=sichuan, period=period))[2] == "81124"
    assert households(services.attachment3_compile(province=sichuan, period=full_year))[2] == str(81124 + 70916)  # 152040, not 154690


def test_a_region_outside_the_service_area_is_refused_and_nothing_is_stored(period, make_user, client_for):
    clerk = make_user("clerk", "supply_company", SICHUAN, company=company("grid", "国网四川省电力公司", CHENGDU))
    for code, name in ((JINJIANG, "锦江区"), (MIANYANG, "绵阳市")):  # another level; another city
        with pytest.raises(ValidationError) as refused:
            enter(clerk, code, 1, {("residential", "households"): "1"})
        assert refused.value.messages == [f"{name}不在国网四川省电力公司的供电服务区域内。"]
    assert not Benefit.objects.exists()
    # The API says the same, with a 400.
    api = client_for(CHENGDU, role="supply_company")  # its company serves 成都市 only
    response = api.put(f"/api/v1/benefits/{JINJIANG}/2022/1/", {"residential": {"households": 3}}, format="json")
    assert response.status_code == 400 and "锦江区不在" in response.content.decode()
    assert not Benefit.objects.exists()


def test_the_api_names_the_company_and_filters_by_it(period, client_for):
    api = client_for(CHENGDU, role="supply_company")
    assert api.put(f"/api/v1/benefits/{CHENGDU}/2022/1/", {"residential": {"households": 3}}, format="json").status_code == 200
    code = api.token.user.company.code
    listed = client_for(SICHUAN).get("/api/v1/benefits/", {"company": code, "category": "residential"}).json()["results"]
    assert [(b["company"], b["region"], b["households"]) for b in listed] == [(code, CHENGDU, 3)]
    assert client_for(SICHUAN).get("/api/v1/benefits/", {"company": "nobody"}).json()["count"] == 0


def test_a_service_area_is_one_level_in_the_companys_province():
    grid = company("grid", "国网四川省电力公司", CHENGDU)
    # Each in its own savepoint: the refusal rolls back the write it interrupts.
    with pytest.raises(ValidationError, match="同一层级"), transaction.atomic():
        grid.service_area.add(Region.objects.get(code=JINJIANG))
    with pytest.raises(ValidationError, match="不在四川省内"), transaction.atomic():
        grid.service_area.add(Region.objects.get(code="500100"))
    assert [r.code for r in grid.service_area.all()] == [CHENGDU]


# --- the workbook ---------------------------------------------------------------------------------


def test_the_workbook_keeps_the_official_sheet_and_adds_the_breakdown(period, two_levels):
    table = services.attachment3_compile(province=Region.objects.get(code=SICHUAN), period=period)
    workbook = load_workbook(BytesIO(excel.attachment3_workbook(table)))
    assert workbook.sheetnames == [layout.ATTACHMENT3_SHEET, BREAKDOWN]
    # The official sheet is the one written without the breakdown, cell by cell.
    plain = load_workbook(BytesIO(excel.attachment3_workbook(build_attachment3(header=table.header, totals=_totals(table)))))
    official, alone = workbook[layout.ATTACHMENT3_SHEET], plain[layout.ATTACHMENT3_SHEET]
    assert [[c.value for c in row] for row in official.iter_rows()] == [[c.value for c in row] for row in alone.iter_rows()]
    assert sorted(map(str, official.merged_cells.ranges)) == sorted(map(str, alone.merged_cells.ranges))

    ws = workbook[BREAKDOWN]
    assert ws["A1"].value == "四川省“三零”“三省”服务效益统计表（按供电企业和地市分列）" and ws["A1"].font.b
    assert [ws.cell(4, c).value for c in range(1, 9)] == [
        "供电企业",
        "地市",
        "统计内容",
        "“三零”服务效益",
        None,
        None,
        "“三省”服务效益",
        "合计",
    ]
    assert [ws.cell(5, c).value for c in range(4, 7)] == ["居民用户", "160kW及以下的企业用户", "其他用户"]
    read = [[ws.cell(r, c).value for c in range(1, 9)] for r in range(6, ws.max_row + 1)]
    labels = ["受益户数（户）", "节省投资（万元）", "增加售电量（万千瓦时）", "增加容量（万千瓦安）"]
    d = Decimal
    expected_blocks = [
        (
            "国网四川省电力公司",
            "成都市",
            [[1000, 0, 0, 0, 1000], [d("10.25"), 0, 0, 0, d("10.25")], [0] * 5, [0, 0, 0, d("3.50"), d("3.50")]],
        ),
        ("国网四川省电力公司", "绵阳市", [[400, 0, 0, 0, 400], [0, d("2.10"), 0, 0, d("2.10")], [0] * 5, [0] * 5]),
        ("四川县域供电公司", "成都市", [[30, 0, 0, 0, 30], [d("0.75"), 0, 0, 0, d("0.75")], [0, 0, d("12.34"), 0, d("12.34")], [0] * 5]),
        ("四川县域供电公司", "绵阳市", [[5, 0, 0, 0, 5], [0] * 5, [0] * 5, [0] * 5]),
        (
            "合计",
            "四川省",
            [
                [1435, 0, 0, 0, 1435],
                [d("11.00"), d("2.10"), 0, 0, d("13.10")],
                [0, 0, d("12.34"), 0, d("12.34")],
                [0, 0, 0, d("3.50"), d("3.50")],
            ],
        ),
    ]
    expected = []
    for name, city, values in expected_blocks:
        for index, (label, row) in enumerate(zip(labels, values)):
            numbers = [float(v) if isinstance(v, Decimal) else v for v in row]  # as openpyxl reads them back
            expected.append([name if index == 0 else None, city if index == 0 else None, label, *numbers])
    assert read == expected
    # Merged company and city cells per block, numbers as numbers with two decimals where the table has them.
    assert "A6:A9" in {str(r) for r in ws.merged_cells.ranges} and "B22:B25" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["D7"].number_format == "0.00" and ws["D6"].number_format == "0" and ws["A22"].font.b


def _totals(table):
    """The official rows back as ``build_attachment3``'s totals."""
    measures = ["households", "investment", "sales", "capacity"]
    categories = ["residential", "small_business", "other", "sansheng"]
    return {(m, c): Decimal(v) for m, (_label, values, _total) in zip(measures, table.rows) for c, v in zip(categories, values)}


# --- the migration of the rows entered before companies -------------------------------------------

BEFORE, AFTER = ("reporting", "0003_benefit_company"), ("reporting", "0005_benefit_company_required")


@pytest.fixture
def old_schema(transactional_db, reference_data):
    """The database as it was before 0004: Benefit.company exists but is empty. Yields its models."""
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    apps = executor.loader.project_state([BEFORE]).apps
    models = {
        name: apps.get_model(app, name)
        for app, name in (("reporting", "Benefit"), ("accounts", "Company"), ("accounts", "Region"), ("accounts", "User"))
    }
    yield models
    models["Benefit"].objects.all().delete()  # a refused test's rows would refuse the migration again
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _old_rows(models, rows):
    Benefit, Region = models["Benefit"], models["Region"]
    found = Region.objects.in_bulk([code for code, *_ in rows], field_name="code")
    Benefit.objects.bulk_create(
        Benefit(region=found[code], year=year, half=half, category=category, households=n, investment=Decimal("1.50"))
        for code, year, half, category, n in rows
    )


def _assign(models):
    return benefits_companies_assign(
        benefit_model=models["Benefit"], company_model=models["Company"], region_model=models["Region"], user_model=models["User"]
    )


@pytest.mark.django_db(transaction=True)
def test_the_migration_refuses_ambiguous_rows_naming_each(old_schema):
    _old_rows(
        old_schema,
        [
            (SICHUAN, 2022, 2, "residential", 2650),
            (CHENGDU, 2022, 2, "residential", 40000),
            (CHENGDU, 2022, 1, "residential", 50000),  # the first half has one level: not named
            ("500100", 2022, 2, "other", 3),  # another province, clean
        ],
    )
    with pytest.raises(BenefitSplitRefused) as refused:
        _assign(old_schema)
    message = str(refused.value)
    assert "请先人工把这些数字拆分到各供电企业" in message
    assert "省份 510000 2022年下半年同时有省级、地市级的数字：" in message
    assert "四川省（510000） 2022年 下半年 居民用户" in message and "成都市（510100） 2022年 下半年 居民用户" in message
    assert "上半年 居民用户" not in message and "500100" not in message
    # Nothing changed, in any province.
    assert not old_schema["Company"].objects.exists()
    assert not old_schema["Benefit"].objects.filter(company__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_of_clean_rows_loses_nothing(old_schema):
    User, Region = old_schema["User"], old_schema["Region"]
    rows = [
        (CHENGDU, 2022, 1, "residential", 50000),
        (MIANYANG, 2022, 1, "residential", 31124),
        (CHENGDU, 2022, 2, "residential", 40000),
        (MIANYANG, 2022, 2, "sansheng", 30916),
        ("500000", 2022, 1, "other", 9),  # 重庆市's figure for the whole municipality
    ]
    _old_rows(old_schema, rows)
    sichuan_user = User.objects.create(username="old-supply", role="supply_company", region=Region.objects.get(code=SICHUAN))
    county_user = User.objects.create(username="old-county", role="county", region=Region.objects.get(code=JINJIANG))
    before = sorted(old_schema["Benefit"].objects.values_list("region__code", "year", "half", "category", "households", "investment"))

    assert _assign(old_schema) == [("重庆市供电企业（迁移）", 1, 0), ("四川省供电企业（迁移）", 4, 1)]
    Benefit, Company = old_schema["Benefit"], old_schema["Company"]
    after = sorted(Benefit.objects.values_list("region__code", "year", "half", "category", "households", "investment"))
    assert after == before and not Benefit.objects.filter(company__isnull=True).exists()
    sichuan = Company.objects.get(code="migrated-510000")
    assert sorted(sichuan.service_area.values_list("code", flat=True)) == [CHENGDU, MIANYANG]
    assert set(Benefit.objects.filter(region__path__startswith="510000/").values_list("company", flat=True)) == {sichuan.pk}
    assert list(Company.objects.get(code="migrated-500000").service_area.values_list("code", flat=True)) == ["500000"]
    sichuan_user.refresh_from_db()
    county_user.refresh_from_db()
    assert (sichuan_user.company_id, county_user.company_id) == (sichuan.pk, None)
    assert _assign(old_schema) == []  # nothing left to migrate

    # The migration after it (company required) applies to the migrated rows.
    executor = MigrationExecutor(connection)
    executor.migrate([AFTER])
    assert Benefit.objects.count() == len(rows)
