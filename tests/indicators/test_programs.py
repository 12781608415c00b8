"""Programs (issue 13): the periods of each program, carried over inside the program only; two
2022S1 for Chongqing; the national 附件2 unchanged while Chongqing's program runs; ``?program=``
on the pages, the API and the commands; programs.csv loaded text for text; the data migration."""

import csv
import importlib
import io
from datetime import date

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from accounts.models import Region
from indicators import services
from indicators.models import Checkmark, Indicator, IndicatorSet, Period, Program, Submission
from indicators.selectors import PeriodNotFound, ProgramNotFound, period_get, program_get, programs_covering, sheet
from reporting.tables import attachment2_table
from tests.helpers import V1, YUZHONG, assert_error

pytestmark = pytest.mark.django_db

REFERENCE = settings.BASE_DIR / "fixtures" / "reference"
CHONGQING, WANZHOU = "500000", "500101"
CODES = ["national-2021", "chongqing-2021", "sichuan-2022", "guiyang-2021", "cqpower-2021"]


def csv_rows(name):
    with open(REFERENCE / name, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def tick_all(user, code, period, month=date(2022, 3, 1)):
    """√ for every county indicator of ``period``'s set in county ``code``."""
    numbers = Indicator.objects.filter(indicator_set=period.indicator_set, level="county").values_list("number", flat=True)
    values = {n: services.CheckmarkValue(status="done", done_month=month) for n in numbers}
    services.checkmarks_set(user=user, region=Region.objects.get(code=code), period=period, values=values, today=date(2022, 7, 1))
    return len(values)


@pytest.fixture
def admin(make_user):
    """The province administrator who issues the API tokens (client_for): Chongqing's."""
    return make_user("cqa", "province", CHONGQING)


@pytest.fixture
def clerk(make_user):
    return make_user("yz", "county", YUZHONG, last_name="渝中填报员")


# Programs as data


def test_programs_csv_is_loaded_text_for_text_from_the_documents():
    documents = {(row["kind"], row["code"]): row for row in csv_rows("documents.csv")}
    rows = csv_rows("programs.csv")
    assert [row["code"] for row in rows] == CODES
    assert list(Program.objects.values_list("code", flat=True)) == CODES  # ordered by ``order``
    for row in rows:
        program = Program.objects.get(code=row["code"])
        # Built on its indicator set's document, or its ledger's when it has no indicators.
        source = documents[("indicators", row["indicator_set"])] if row["indicator_set"] else documents[("ledger", row["ledgers"])]
        assert (program.name, program.document) == (source["name"], source["document"]) == (row["name"], row["document"])
        assert (program.indicator_set.code if program.indicator_set else "") == row["indicator_set"]
        assert sorted(program.regions.values_list("code", flat=True)) == sorted(row["region_codes"].split())
        assert program.tables == row["tables"].split()
        assert list(program.ledgers.values_list("code", flat=True)) == row["ledgers"].split()
    national = Program.objects.get(code=Program.NATIONAL)
    assert (national.indicator_set.code, national.tables, national.regions.count()) == ("national-2021", ["attachment2", "attachment3"], 0)
    assert Program.objects.get(code="chongqing-2021").tables == ["completion"]


def test_a_bad_programs_file_stores_nothing_and_names_row_and_field(tmp_path):
    from ledger.reference import reference_load
    from utilities.csvdata import DataFileError

    for path in REFERENCE.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    lines = (REFERENCE / "programs.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("chongqing-2021,chongqing-2021,500000,completion", "chongqing-2099,chongqing-2021,509999,chart")
    lines.append("guiyang-2021,重名,文件,,national-2021,,completion,50")
    (tmp_path / "programs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = list(Program.objects.values_list("code", "name", "tables"))
    with pytest.raises(DataFileError) as raised:
        reference_load(directory=tmp_path)
    text = str(raised.value)
    assert "programs.csv 第 3 行 字段“indicator_set”：指标体系 chongqing-2099 不存在" in text
    assert "programs.csv 第 3 行 字段“region_codes”：区域 509999 不存在" in text
    assert "programs.csv 第 3 行 字段“tables”：“chart”不是" in text
    assert "programs.csv 第 7 行 字段“code”：方案代码 guiyang-2021 重复" in text
    assert "programs.csv 第 7 行 字段“ledgers”：台账 national-2021 已属于方案 national-2021" in text
    assert "programs.csv 第 7 行 字段“tables”：没有指标体系的方案不能编制完成情况表" in text
    assert list(Program.objects.values_list("code", "name", "tables")) == before


def test_programs_cover_their_regions_and_the_regions_below():
    def covering(code):
        return set(programs_covering(Region.objects.get(code=code)).values_list("code", flat=True))

    assert covering(YUZHONG) == {"national-2021", "chongqing-2021", "cqpower-2021"}
    assert covering(CHONGQING) == {"national-2021", "chongqing-2021", "cqpower-2021"}
    assert covering("510104") == {"national-2021", "sichuan-2022"}
    assert covering("520102") == {"national-2021", "guiyang-2021"}  # 贵阳市南明区
    assert covering("520000") == {"national-2021"}  # 贵州省 itself is above 贵阳市
    chongqing = Program.objects.get(code="chongqing-2021")
    assert chongqing.covers(Region.objects.get(code=YUZHONG)) and not chongqing.covers(Region.objects.get(code="510104"))


# Periods per program


def test_chongqing_has_two_periods_2022S1_each_with_its_own_checkmarks_and_submission(clerk):
    national = services.period_open(code="2022S1")[0]
    chongqing = services.period_open(code="2022S1", program="chongqing-2021")[0]
    assert (national.code, chongqing.code) == ("2022S1", "2022S1") and national.pk != chongqing.pk
    assert (national.program.code, national.indicator_set.code) == ("national-2021", "national-2021")
    assert (chongqing.program.code, chongqing.indicator_set.code) == ("chongqing-2021", "chongqing-2021")
    assert period_get(code="2022S1") == national and period_get(code="2022S1", program="chongqing-2021") == chongqing

    county = Region.objects.get(code=YUZHONG)
    assert len(sheet(region=county, period=national).rows) == 31
    assert len(sheet(region=county, period=chongqing).rows) == 35
    assert tick_all(clerk, YUZHONG, chongqing) == 35
    services.county_submit(user=clerk, region=county, period=chongqing, today=date(2022, 7, 1))
    # The national period of the same county is untouched: nothing ticked, still being filled.
    assert Checkmark.objects.filter(region=county, period=national).count() == 0
    assert Checkmark.objects.filter(region=county, period=chongqing).count() == 35
    states = dict(Submission.objects.filter(region=county).values_list("period__program__code", "state"))
    assert states == {"chongqing-2021": "submitted"}
    assert services.missing_entries(region=county, period=national)[0]  # the national sheet still misses all 31


def test_carry_over_stays_inside_the_program(clerk):
    national_h1 = services.period_open(code="2022S1")[0]
    assert tick_all(clerk, YUZHONG, national_h1) == 31
    national_year, copied = services.period_open(code="2022")
    assert copied == 31
    # Chongqing's first period: the national periods before it are another program's, not carried.
    chongqing_h1, copied = services.period_open(code="2022S1", program="chongqing-2021")
    assert copied == 0
    tick_all(clerk, YUZHONG, chongqing_h1)
    chongqing_year, copied = services.period_open(code="2022", program=Program.objects.get(code="chongqing-2021"))
    assert copied == 35
    assert set(Checkmark.objects.filter(period=chongqing_year).values_list("indicator__indicator_set__code", flat=True)) == {
        "chongqing-2021"
    }
    assert set(Checkmark.objects.filter(period=national_year).values_list("indicator__indicator_set__code", flat=True)) == {"national-2021"}
    # The national 2023S1 starts from national 2022 only (31 marks), Chongqing's marks stay out.
    assert services.period_open(code="2023S1")[1] == 31


def test_opening_refuses_ledger_only_programs_unknown_programs_and_a_second_open():
    with pytest.raises(ValidationError, match="没有指标体系，只有台账：不开放报告期"):
        services.period_open(code="2022S1", program="sichuan-2022")
    with pytest.raises(ProgramNotFound, match="方案“nowhere-2021”不存在。已有方案：national-2021、chongqing-2021"):
        services.period_open(code="2022S1", program="nowhere-2021")
    services.period_open(code="2022S1", program="chongqing-2021")
    with pytest.raises(ValidationError, match="报告期 2022S1 已经开放"):
        services.period_open(code="2022S1", program="chongqing-2021")
    services.period_open(code="2022S1")  # the national one is another period
    assert Period.objects.filter(code="2022S1").count() == 2
    with pytest.raises(PeriodNotFound, match="2023S1 尚未开放"):
        period_get(code="2023S1", program="chongqing-2021")


def test_a_period_on_another_set_than_its_programs_is_refused():
    period = Period(
        program=program_get(),
        code="2022S1",
        year=2022,
        kind="half",
        starts=date(2022, 1, 1),
        ends=date(2022, 6, 30),
        deadline=date(2022, 7, 15),
        indicator_set=IndicatorSet.objects.get(code="chongqing-2021"),
    )
    with pytest.raises(ValidationError) as raised:
        period.full_clean()
    assert "须为其方案““获得电力”任务指标完成标准（全国 38 项）”的指标体系" in raised.value.message_dict["indicator_set"][0]


def test_the_data_migration_gives_every_period_the_program_of_its_set():
    migration = importlib.import_module("indicators.migrations.0010_programs_from_periods")
    Program.objects.filter(code="chongqing-2021").delete()  # as before the migration: no such program yet
    national_set, chongqing_set = IndicatorSet.objects.get(code="national-2021"), IndicatorSet.objects.get(code="chongqing-2021")
    spans = dict(year=2022, kind="half", starts=date(2022, 1, 1), ends=date(2022, 6, 30), deadline=date(2022, 7, 15))
    periods = [
        Period.objects.create(program=Program.objects.create(code=f"old-{s.pk}", name="旧"), code="2022S1", indicator_set=s, **spans)
        for s in (national_set, chongqing_set)
    ]
    migration.programs_from_periods(django_apps, None)
    national, chongqing = (Period.objects.get(pk=p.pk).program for p in periods)
    assert national == Program.objects.get(code="national-2021")  # already there: kept as it is
    assert (chongqing.code, chongqing.name, chongqing.document, chongqing.indicator_set) == (
        "chongqing-2021",
        chongqing_set.name,
        chongqing_set.document,
        chongqing_set,
    )
    assert list(chongqing.regions.values_list("code", flat=True)) == [CHONGQING] and chongqing.tables == ["completion"]
    migration.programs_from_periods(django_apps, None)  # run twice: nothing more
    assert Program.objects.filter(code="chongqing-2021").count() == 1


def test_the_national_attachment2_is_unchanged_while_chongqings_program_runs(clerk, make_user):
    national = services.period_open(code="2022S1")[0]
    province = make_user("cqp", "province", CHONGQING)
    tick_all(clerk, YUZHONG, national)
    tick_all(make_user("wz", "county", WANZHOU), WANZHOU, national)
    chongqing_region = Region.objects.get(code=CHONGQING)
    only_national = attachment2_table(province=chongqing_region, period=national, user=province, on=date(2022, 7, 10))

    chongqing = services.period_open(code="2022S1", program="chongqing-2021")[0]
    tick_all(clerk, YUZHONG, chongqing, month=date(2022, 5, 1))
    both = attachment2_table(province=chongqing_region, period=national, user=province, on=date(2022, 7, 10))
    assert both == only_national
    assert len(both.columns) == 38 and both.rows  # 38 columns, whatever the other program holds
    with pytest.raises(ValidationError, match="附件2 按国能综通监管〔2021〕37号的全国 38 项指标编制"):
        attachment2_table(province=chongqing_region, period=chongqing)


# Pages, API and commands


def test_program_parameter_on_a_page(client, clerk):
    services.period_open(code="2022S1")
    services.period_open(code="2022S1", program="chongqing-2021")
    client.force_login(clerk)
    national = client.get(f"/periods/2022S1/sheet/{YUZHONG}/")
    chongqing = client.get(f"/periods/2022S1/sheet/{YUZHONG}/?program=chongqing-2021")
    assert national.status_code == chongqing.status_code == 200
    assert len(national.context["sheet"].rows) == 31 and len(chongqing.context["sheet"].rows) == 35
    assert chongqing.context["sheet"].period.program.code == "chongqing-2021"
    # A save keeps the program: the redirect comes back to Chongqing's sheet.
    first = chongqing.context["sheet"].rows[0].indicator
    response = client.post(
        f"/periods/2022S1/sheet/{YUZHONG}/?program=chongqing-2021",
        {"version": 0, f"status_{first.number}": "done", f"done_month_{first.number}": "2022-03"},
    )
    assert response.status_code == 302 and response["Location"].endswith("?program=chongqing-2021")
    stored = Checkmark.objects.get(region__code=YUZHONG)
    assert (stored.period.program.code, stored.indicator) == ("chongqing-2021", first)
    unknown = client.get(f"/periods/2022S1/sheet/{YUZHONG}/?program=nowhere")
    assert unknown.status_code == 404
    not_opened = client.get(f"/periods/2022/sheet/{YUZHONG}/?program=chongqing-2021")
    assert not_opened.status_code == 404


def test_programs_and_program_parameter_in_the_api(client_for):
    services.period_open(code="2022S1")
    services.period_open(code="2022S1", program="chongqing-2021")
    api = client_for(YUZHONG)
    listed = api.get(f"{V1}/programs/")
    assert listed.status_code == 200
    programs = listed.json()["results"]
    assert [p["code"] for p in programs] == CODES
    assert programs[1] == {
        "code": "chongqing-2021",
        "name": "重庆市“获得电力”任务指标完成标准（42 项）",
        "document": "渝经信电力〔2021〕14号 附件4",
        "indicator_set": "chongqing-2021",
        "regions": [CHONGQING],
        "tables": ["completion"],
    }
    assert programs[2]["indicator_set"] is None and programs[0]["regions"] == []

    periods = api.get(f"{V1}/periods/?program=chongqing-2021").json()["results"]
    assert [(p["code"], p["program"], p["indicator_set"]) for p in periods] == [("2022S1", "chongqing-2021", "chongqing-2021")]
    assert [p["program"] for p in api.get(f"{V1}/periods/").json()["results"]] == ["national-2021"]  # old URL: national
    assert api.get(f"{V1}/periods/2022S1/?program=chongqing-2021").json()["indicator_set"] == "chongqing-2021"

    path = f"{V1}/periods/2022S1/regions/{YUZHONG}/checkmarks/"
    assert len(api.get(path).json()["checkmarks"]) == 31
    assert len(api.get(f"{path}?program=chongqing-2021").json()["checkmarks"]) == 35
    body = api.put(
        f"{path}?program=chongqing-2021",
        {"checkmarks": [{"number": 1, "status": "done", "done_month": "2022-03"}]},
        format="json",
        HTTP_IF_MATCH='"0"',
    )
    assert body.status_code == 200, body.content
    written = Checkmark.objects.get(region__code=YUZHONG)
    assert written.period.program.code == "chongqing-2021" and written.indicator.indicator_set.code == "chongqing-2021"

    error = assert_error(api.get(f"{path}?program=nowhere"), 404, "not_found")
    assert "方案“nowhere”不存在" in error["message"] and "chongqing-2021" in error["message"]
    error = assert_error(api.get(f"{V1}/periods/2023/?program=chongqing-2021"), 404, "not_found")
    assert "2023 尚未开放" in error["message"]
    assert_error(api.get(f"{V1}/periods/?program=nowhere"), 404, "not_found")


def test_the_schema_documents_the_program_parameter(client, admin):
    client.force_login(admin)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/programs/" in schema["paths"]
    checkmarks = schema["paths"]["/api/v1/periods/{code}/regions/{region_code}/checkmarks/"]
    for operation in ("get", "put"):
        names = [p["name"] for p in checkmarks[operation]["parameters"] if p["in"] == "query"]
        assert names == ["program"]
    assert "program" in [p["name"] for p in schema["paths"]["/api/v1/periods/"]["get"]["parameters"]]


def test_open_period_command_per_program(capsys):
    call_command("open_period", "2022S1", "--program", "chongqing-2021")
    assert "已开放重庆市“获得电力”任务指标完成标准（42 项）（chongqing-2021） 2022年上半年（2022S1）" in capsys.readouterr().out
    call_command("open_period", "2022S1")
    assert "已开放 2022年上半年（2022S1）" in capsys.readouterr().out
    with pytest.raises(CommandError, match="方案“nowhere”不存在。已有方案：national-2021、chongqing-2021、sichuan-2022"):
        call_command("open_period", "2022", "--program", "nowhere")
    with pytest.raises(CommandError, match="没有指标体系"):
        call_command("open_period", "2022", "--program", "cqpower-2021")


def test_reporting_commands_take_the_program(tmp_path, clerk, make_user):
    chongqing = services.period_open(code="2022S1", program="chongqing-2021")[0]
    tick_all(clerk, YUZHONG, chongqing)
    out = tmp_path / "重庆.xlsx"
    call_command(
        "export_report", "attachment2", "--period", "2022S1", "--province", CHONGQING, "--program", "chongqing-2021", "-o", str(out)
    )
    ws = load_workbook(out).active
    # Chongqing's own table in 附件2's layout: its 42 numbers, province-level ones starred.
    labels = [ws.cell(row=6, column=c).value for c in range(5, 5 + 42)]
    indicators = Indicator.objects.filter(indicator_set__code="chongqing-2021").order_by("number")
    expected = [f"*{i.number}" if i.level == "province" else f"{i.number}" for i in indicators]
    assert labels == expected and labels[-1] == "*42"
    yuzhong = next(r for r in range(7, ws.max_row + 1) if ws.cell(row=r, column=4).value == "渝中区")
    assert [ws.cell(row=yuzhong, column=c).value for c in (47, 48, 49)] == [35, 0, "100%"]
    with pytest.raises(CommandError, match="方案“nowhere”不存在"):
        call_command("export_report", "attachment2", "--period", "2022S1", "--province", CHONGQING, "--program", "nowhere", "-o", str(out))
    with pytest.raises(CommandError, match="附件3 只属于全国方案"):
        call_command(
            "export_report", "attachment3", "--period", "2022S1", "--province", CHONGQING, "--program", "chongqing-2021", "-o", str(out)
        )
    # The national 2022S1 is not open: the national default says so, with the command to open it.
    with pytest.raises(CommandError, match=r"报告期 2022S1 尚未开放（python manage.py open_period 2022S1；已开放：无）"):
        call_command("compile_reports", "--period", "2022S1", "--province", CHONGQING)
    # compile_reports --program: tests/reporting/test_program_compile.py
    make_user("cqp", "province", CHONGQING)
    # The same file filled offline goes back into Chongqing's period: 万州区 ticks its indicator 1.
    workbook = load_workbook(out)
    wanzhou = next(r for r in range(7, workbook.active.max_row + 1) if workbook.active.cell(row=r, column=4).value == "万州区")
    workbook.active.cell(row=wanzhou, column=5).value = "√"
    workbook.save(out)
    call_command("import_attachment2", str(out), "--period", "2022S1", "--program", "chongqing-2021", "--user", "cqp")
    imported = Checkmark.objects.get(region__code=WANZHOU)
    assert (imported.period, imported.indicator.indicator_set.code, imported.indicator.number, imported.status) == (
        chongqing,
        "chongqing-2021",
        1,
        "done",
    )
    with pytest.raises(CommandError, match="方案“nowhere”不存在"):
        call_command("import_attachment2", str(out), "--period", "2022S1", "--program", "nowhere", "--user", "cqp")


def test_officials_read_programs_and_only_a_superuser_edits_them(make_user, rf):
    from django.contrib import admin as django_admin

    from accounts.models import User

    admin = django_admin.site._registry[Program]
    program = program_get()
    readers = [make_user("r-p", "province", CHONGQING), make_user("r-c", "city", "500100"), make_user("r-n", "national")]
    for user in readers:
        request = rf.get("/admin/")
        request.user = user
        assert user.has_perm("indicators.view_program") and admin.has_view_permission(request, program)
        assert not any(admin_check(request, program) for admin_check in (admin.has_change_permission, admin.has_delete_permission))
        assert not admin.has_add_permission(request)
    assert not make_user("r-y", "county", YUZHONG).has_perm("indicators.view_program")
    superuser = User.objects.create_superuser("root-programs", password="pw-for-tests-1")
    request = rf.get("/admin/")
    request.user = superuser
    assert admin.has_add_permission(request) and admin.has_change_permission(request, program)


def test_the_export_page_takes_the_program(client, clerk, make_user):
    national = services.period_open(code="2022S1")[0]
    chongqing = services.period_open(code="2022S1", program="chongqing-2021")[0]
    tick_all(clerk, YUZHONG, chongqing)
    client.force_login(make_user("cqp", "province", CHONGQING))
    base = f"/reporting/export/attachment2/?period=2022S1&region={CHONGQING}"
    for query, period, count in (("", national, 38), ("&program=chongqing-2021", chongqing, 42)):
        response = client.get(base + query)
        assert response.status_code == 200, query
        ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        labels = [ws.cell(row=6, column=c).value for c in range(5, 5 + count + 1)]
        assert labels[count - 1] in ("*38", "*42") and labels[count] is None  # exactly the period's set
        assert ws.cell(row=2, column=1).value == period.span_label
    assert client.get(f"/reporting/export/attachment3/?period=2022S1&region={CHONGQING}&program=chongqing-2021").status_code == 404
    assert client.get(base + "&program=nowhere").status_code == 404


def test_a_review_step_on_chongqings_page_acts_on_chongqings_period(client, clerk, make_user):
    national = services.period_open(code="2022S1")[0]
    chongqing = services.period_open(code="2022S1", program="chongqing-2021")[0]
    tick_all(clerk, YUZHONG, chongqing)
    county = Region.objects.get(code=YUZHONG)
    services.county_submit(user=clerk, region=county, period=chongqing, today=date(2022, 7, 1))
    client.force_login(make_user("cqc", "city", "500100"))
    page = client.get("/periods/2022S1/review/500100/?program=chongqing-2021")
    assert page.status_code == 200
    action = f"/periods/2022S1/act/{YUZHONG}/?program=chongqing-2021"
    assert f'action="{action}"' in page.content.decode()
    assert client.post(action, {"action": "approve", "next": "/periods/2022S1/review/500100/?program=chongqing-2021"}).status_code == 302
    assert Submission.objects.get(region=county, period=chongqing).state == "approved"
    assert not Submission.objects.filter(region=county, period=national).exists()
    # The national page links stay as they were: no program in them.
    national_page = client.get("/periods/2022S1/review/500100/").content.decode()
    assert f'href="/periods/2022S1/sheet/{YUZHONG}/"' in national_page and "program=" not in national_page
