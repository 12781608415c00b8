"""New documents without a release (issue 13 §5): a province or national official uploads next
year's indicator set or ledger (.xlsx or CSV in FORMAT.md's layout), previews it, loads it and runs
it as a program; every bad row located (file, row, field, reason) and nothing stored."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import Workbook

from indicators.models import Indicator, IndicatorSet, Period, Program
from ledger.models import Ledger, LedgerItem
from ledger.reference import document_load
from reporting.models import ReportSnapshot
from tests.helpers import SICHUAN, region
from utilities.csvdata import DataFileError

pytestmark = pytest.mark.django_db

URL = "/ledgers/documents/new/"
HEADER = "number,label,group,level,encouraging,content,standard\n"
GOOD_SET = HEADER + (
    "1,1,2024年指标,county,0,供电企业将居民用户办电时间压减至 2 个工作日以内。,所有居民用户报装项目达到规定时限。\n"
    "2,2,2024年指标,county,0,低压非居民用户办电时间压减至 5 个工作日以内。,/\n"
    "3,*3,持续推进指标,province,1,鼓励供电企业推广临时用电的租赁共享服务。,/\n"
)
FORM = {"kind": "indicators", "code": "sichuan-2024", "name": "四川省2024年指标", "document": "川发改能源〔2024〕1号", "year": "2024"}


def csv_file(text, name="sichuan_2024.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def counts():
    return (
        IndicatorSet.objects.count(),
        Indicator.objects.count(),
        Program.objects.count(),
        Period.objects.count(),
        Ledger.objects.count(),
    )


@pytest.fixture
def official(make_user):
    return make_user("scp", "province", SICHUAN, last_name="四川省能源局")


def test_a_province_previews_loads_and_runs_a_new_indicator_set(client, media, official):
    client.force_login(official)
    before = counts()
    form = {**FORM, "run": "on", "period": "2024S1"}
    preview = client.post(URL, {**form, "action": "preview", "file": csv_file(GOOD_SET)})
    page = preview.content.decode()
    assert preview.status_code == 200 and "预览：sichuan_2024.csv（3 项，作为方案 sichuan-2024 运行，开放报告期 2024S1）" in page
    assert "供电企业将居民用户办电时间压减至 2 个工作日以内。" in page
    assert counts() == before  # a preview stores nothing
    token = preview.context["token"]
    response = client.post(URL, {**form, "action": "confirm", "token": token}, follow=True)
    assert "已导入指标体系“四川省2024年指标”（3 项），并作为方案 sichuan-2024 运行，已开放报告期 2024S1。" in response.content.decode()
    indicator_set = IndicatorSet.objects.get(code="sichuan-2024")
    assert (indicator_set.region.code, indicator_set.year, indicator_set.document) == (SICHUAN, 2024, "川发改能源〔2024〕1号")
    assert [(i.label, i.level, i.encouraging) for i in indicator_set.indicators.all()] == [
        ("1", "county", False),
        ("2", "county", False),
        ("*3", "province", True),
    ]
    program = Program.objects.get(code="sichuan-2024")
    assert (program.indicator_set, program.tables, list(program.regions.values_list("code", flat=True))) == (
        indicator_set,
        ["completion"],
        [SICHUAN],
    )
    assert program.covers(region("510104")) and not program.covers(region("500103"))
    assert Period.objects.get(program=program).code == "2024S1"
    # The token is spent: the same confirm again stores nothing more.
    again = client.post(URL, {**form, "action": "confirm", "token": token})
    assert again.status_code == 400 and "这次上传已失效" in again.content.decode()
    assert IndicatorSet.objects.filter(code="sichuan-2024").count() == 1
    # It runs: the program's own completion table compiles for the province it covers.
    call_command("compile_reports", "--period", "2024S1", "--program", "sichuan-2024")
    snapshot = ReportSnapshot.objects.get()
    assert (snapshot.kind, snapshot.region.code, [c["label"] for c in snapshot.data["columns"]]) == (
        "completion",
        SICHUAN,
        ["1", "2", "*3"],
    )


def ledger_workbook():
    wb = Workbook()
    ws = wb.active
    ws.append(["number", "category", "task", "responsible_units", "due_text", "due", "年度重点举措"])
    ws.append([1, "提升办电效率", "压减低压办电时间", "国网四川省电力公司", "2024 年底前", None, "线上办电"])
    ws.append([2, "提升办电效率", "推行“刷脸办电”", "省能源局、国网四川省电力公司", "持续推进", None, None])
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("台账2024.xlsx", buffer.getvalue())


def test_a_ledger_from_an_xlsx_with_its_extra_column(official):
    preview = document_load(
        user=official,
        kind="ledger",
        upload=ledger_workbook(),
        code="sichuan-2024",
        name="四川省2024年台账",
        document="",
        year=2024,
        region=region(SICHUAN),
        run=True,
    )
    ledger = Ledger.objects.get(code="sichuan-2024")
    assert (ledger.is_reference, ledger.extra_columns, ledger.program.code) == (True, ["年度重点举措"], "sichuan-2024")
    items = list(LedgerItem.objects.filter(ledger=ledger).order_by("number"))
    assert [(i.number, i.due_date and i.due_date.isoformat(), i.ongoing, i.extra) for i in items] == [
        (1, "2024-12-31", False, {"年度重点举措": "线上办电"}),
        (2, None, True, {}),
    ]
    assert len(preview.rows) == 2 and ledger.program.indicator_set is None


BAD_SET = HEADER + (
    "1,1,2024年指标,county,0,内容一,/\n"
    "1,1,2024年指标,county,0,内容二,/\n"  # 3: number 1 again
    "3,3,2024年指标,city,0,内容三,/\n"  # 4: a level other than county/province
    "4,*4,持续推进指标,county,1,内容四,/\n"  # 5: encouraging but county
    "5,5,2024年指标,county,0,,/\n"  # 6: 2024年指标 again after another group, and no content
)


def test_a_bad_indicator_set_names_every_row_and_field_and_stores_nothing(client, media, official):
    client.force_login(official)
    before = counts()
    response = client.post(URL, {**FORM, "run": "on", "action": "preview", "file": csv_file(BAD_SET, "bad.csv")})
    assert response.status_code == 400
    errors = [str(e) for e in response.context["errors"]]
    for expected in (
        "bad.csv 第 3 行 字段“number”：序号 1 与第 2 行重复。",
        "bad.csv 第 4 行 字段“level”：“city”不是 province/county 之一。",
        "bad.csv 第 5 行 字段“encouraging”：鼓励性指标只能是省级（province）指标。",
        "bad.csv 第 6 行 字段“content”：不能为空。",
        "bad.csv 第 6 行 字段“group”：指标组“2024年指标”从第 2 行起已列过，中间隔有其他组：同组指标须相邻。",
    ):
        assert expected in errors, errors
    assert "未保存任何内容" in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"code": "national-2021"}, "表单 字段“code”"),  # the set's code exists
        ({"run": "on", "code": "chongqing-2021x", "period": "2024H1"}, "表单 字段“period”：报告期“2024H1”格式不对"),
        ({"kind": "ledger", "period": "2024S1"}, "表单 字段“period”：只有作为方案运行的指标体系才能开放报告期。"),
    ],
)
def test_a_bad_form_is_located_and_stores_nothing(official, change, expected):
    before = counts()
    arguments = {**FORM, "year": 2024, "region": region(SICHUAN), "run": False, "period_code": "", **change}
    arguments["period_code"] = arguments.pop("period", "")
    arguments["run"] = arguments["run"] == "on"
    with pytest.raises(DataFileError) as caught:
        document_load(user=official, upload=csv_file(GOOD_SET), **arguments)
    assert any(expected in str(e) for e in caught.value.errors), caught.value.errors
    assert counts() == before


def test_an_existing_program_code_and_a_failed_period_open_store_nothing(official):
    before = counts()
    with pytest.raises(DataFileError, match="方案代码 chongqing-2021 已存在"):
        document_load(
            user=official,
            kind="indicators",
            upload=csv_file(GOOD_SET),
            code="chongqing-2021",
            name="x",
            document="",
            year=2024,
            region=region(SICHUAN),
            run=True,
        )
    assert counts() == before


def test_an_empty_or_broken_file_is_refused(official):
    with pytest.raises(DataFileError, match="空文件"):
        document_load(
            user=official,
            kind="indicators",
            upload=csv_file("", "empty.csv"),
            code="x-2024",
            name="x",
            document="",
            year=2024,
            region=region(SICHUAN),
        )
    with pytest.raises(DataFileError, match="不是 Excel 工作簿|已损坏"):
        document_load(
            user=official,
            kind="indicators",
            upload=SimpleUploadedFile("x.xlsx", b"PK\x03\x04broken"),
            code="x-2024",
            name="x",
            document="",
            year=2024,
            region=region(SICHUAN),
        )
    assert not IndicatorSet.objects.filter(code="x-2024").exists()


def test_who_may_load(client, make_user, official):
    client.force_login(make_user("jj", "county", "510104"))
    assert client.get(URL).status_code == 403
    # A province official loads for its own province only; the national level for the country.
    with pytest.raises(PermissionDenied):
        document_load(
            user=official,
            kind="indicators",
            upload=csv_file(GOOD_SET),
            code="cq-2024",
            name="x",
            document="",
            year=2024,
            region=region("500000"),
        )
    with pytest.raises(PermissionDenied):
        document_load(
            user=official, kind="indicators", upload=csv_file(GOOD_SET), code="cn-2024", name="x", document="", year=2024, region=None
        )
    national = make_user("nea", "national")
    document_load(
        user=national, kind="indicators", upload=csv_file(GOOD_SET), code="cn-2024", name="全国2024", document="", year=2024, run=True
    )
    assert Program.objects.get(code="cn-2024").regions.count() == 0  # the whole country
    assert "导入新的指标体系或台账" not in client.get("/ledgers/").content.decode()  # the county clerk's list
    client.force_login(official)
    assert "导入新的指标体系或台账" in client.get("/ledgers/").content.decode()
    page = client.get(URL).content.decode()
    assert 'name="region"' in page and "510000" in page and "disabled" in page


def test_the_page_previews_an_xlsx_ledger(client, media, official):
    client.force_login(official)
    response = client.post(URL, {**FORM, "kind": "ledger", "action": "preview", "file": ledger_workbook()})
    page = response.content.decode()
    assert response.status_code == 200 and "推行“刷脸办电”" in page and "2024-12-31" in page and "持续推进" in page
    assert not Ledger.objects.filter(code="sichuan-2024").exists()
