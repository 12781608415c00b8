"""The bad-input corpus (issue 7 §5): every item of tests/portal/corpus fed to every entry point that
accepts it — 附件2 import (function, page, command), ledger import (function, page, command), the
API's JSON bodies, evidence uploads on the county sheet and on a ledger assignment — each refused
with a clear Chinese message and the right status, and nothing stored.

Formula-looking text that is accepted (a note, a progress report) must come out of every export
as text, never as a formula.
"""

import io
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts.models import Region
from accounts.services import api_token_create
from indicators import services as indicator_services
from indicators.models import AuditEntry, Checkmark, Evidence, Submission
from ledger.models import Assignment, LedgerItem, ProgressEvidence, ProgressUpdate
from ledger.resources import export_workbook, import_workbook
from reporting import excel
from reporting import services as report_services
from reporting.imports import ImportFileError, read_attachment2
from reporting.models import ReportSnapshot
from tests.helpers import col, table_digest, to_bytes, workbook
from tests.portal.corpus import make_corpus

pytestmark = pytest.mark.django_db

NINGXIA = "640000"
A2_URL = "/reporting/import/attachment2/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHECKMARKS = "/api/v1/periods/2022S1/regions/{}/checkmarks/"
SHEET = "/periods/2022S1/sheet/510104/"


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return make_corpus.build(tmp_path_factory.mktemp("corpus"))


@pytest.fixture
def nx(make_user):
    return make_user("nx", "province", NINGXIA, last_name="宁夏能源局")


def state():
    """Everything an import, a write or an upload could have changed."""

    return {
        "checkmarks": table_digest(Checkmark.objects, "pk", "status", "done_month", "expected_month", "note"),
        "audit": AuditEntry.objects.count(),
        "submissions": table_digest(Submission.objects, "pk", "state", "version"),
        "ledger_items": table_digest(LedgerItem.objects, "pk", "number", "category", "task", "responsible_units", "due_text", "extra"),
        "assignments": table_digest(Assignment.objects, "pk", "status", "progress", "version"),
        "progress": ProgressUpdate.objects.count(),
        "evidence": Evidence.objects.count(),
        "progress_evidence": ProgressEvidence.objects.count(),
        "snapshots": ReportSnapshot.objects.count(),
    }


def stored_files(media):
    return sorted(str(p.relative_to(media)) for p in Path(media).rglob("*") if p.is_file()) if Path(media).exists() else []


# --- the .xlsx items, and what each entry point must say ----------------------------------------

# item -> key phrase of the refusal; both imports share the package checks (the document named differs)
FILE_ITEMS = {
    "corrupt.xlsx": "已损坏或不完整（可能上传中断）",
    "xls-renamed.xlsx": "是旧版 Excel（.xls）格式",
    "csv-renamed.xlsx": "不是 Excel 工作簿（.xlsx）：请上传按附件2 模板填写的 .xlsx 文件",
    "zip-not-workbook.xlsx": "不是 Excel 工作簿（.xlsx）：缺少工作簿内容",
    "zip-bomb.xlsx": "解压后过大（超过 40 MB），不像是附件2",
    "oversized.xlsx": "大小 5242881 字节，超过上限 5242880 字节",
    "truncated.xlsx": "已损坏或不完整（可能上传中断）",
}
ATTACHMENT2_WRONG_TEMPLATE = {
    "other-headers.xlsx": "工作表只有 2 行，没有表头和数据：这不是填好的附件2",
    "other-sheet.xlsx": "中没有名为“附件2”的工作表（现有：Sheet1）：这不是附件2 模板",
    "attachment3.xlsx": "中没有名为“附件2”的工作表（现有：附件3、按供电企业和地市分列）：这不是附件2 模板",
    "ledger-export.xlsx": "中没有名为“附件2”的工作表（现有：任务台账）：这不是附件2 模板",
}
LEDGER_WRONG_TEMPLATE = {
    "other-headers.xlsx": "这不是从门户导出的任务台账",
    "other-sheet.xlsx": "这不是从门户导出的任务台账",
    "attachment3.xlsx": "这不是从门户导出的任务台账",
    "attachment2.xlsx": "列数过多，不像是任务台账",
}


@pytest.fixture
def derived(period, nx, people, ledger):
    """Items made from the portal's own files: a valid 附件2 cut in half, a 附件3, a ledger export."""
    good = to_bytes(workbook(period)[0])
    ningxia = Region.objects.get(code=NINGXIA)
    attachment3 = excel.attachment3_workbook(report_services.attachment3_compile(province=ningxia, period=period, user=nx))
    return {
        "truncated.xlsx": make_corpus.truncated(good),
        "attachment2.xlsx": good,
        "attachment3.xlsx": attachment3,
        "ledger-export.xlsx": export_workbook(ledger=ledger, user=people["province"]),
    }


def item_bytes(corpus, derived, name):
    return derived[name] if name in derived else Path(corpus[name]).read_bytes()


def as_upload(data, name):
    return SimpleUploadedFile(name, data, content_type=XLSX)


def file_path(tmp_path, corpus, derived, name):
    if name in corpus:
        return Path(corpus[name])
    path = tmp_path / name
    path.write_bytes(derived[name])
    return path


# --- 附件2 import: the function, the page, the command -------------------------------------------


@pytest.mark.parametrize("name, phrase", [*FILE_ITEMS.items(), *ATTACHMENT2_WRONG_TEMPLATE.items()])
def test_attachment2_import_refuses_the_item_everywhere(name, phrase, corpus, derived, period, nx, client, media, tmp_path):
    ningxia = Region.objects.get(code=NINGXIA)
    data = item_bytes(corpus, derived, name)
    path = file_path(tmp_path, corpus, derived, name)
    before = state()

    with pytest.raises(ImportFileError) as caught:
        read_attachment2(as_upload(data, name), province=ningxia, period=period)
    assert any(phrase in e for e in caught.value.errors), caught.value.errors
    with pytest.raises(ImportFileError) as caught:  # from a path, as the command reads it
        read_attachment2(path, province=ningxia, period=period)
    assert any(phrase in e for e in caught.value.errors), caught.value.errors

    client.force_login(nx)
    response = client.post(A2_URL, {"action": "preview", "period": period.code, "province": NINGXIA, "file": as_upload(data, name)})
    page = response.content.decode()
    assert response.status_code == 400
    assert "未导入任何内容" in page and phrase in page
    assert stored_files(media) == []  # the upload is not kept for a confirm step

    with pytest.raises(CommandError) as caught:
        call_command("import_attachment2", str(path), "--period", "2022S1", "--user", "nx")
    assert phrase in str(caught.value)
    assert state() == before


# --- ledger import: the function, the pages, the command -----------------------------------------


def ledger_phrase(phrase):
    return phrase.replace("附件2 模板", "任务台账模板").replace("40 MB），不像是附件2", "10 MB），不像是任务台账")


@pytest.mark.parametrize(
    "name, phrase",
    [
        *((n, ledger_phrase(p)) for n, p in FILE_ITEMS.items()),
        *LEDGER_WRONG_TEMPLATE.items(),
    ],
)
def test_ledger_import_refuses_the_item_everywhere(name, phrase, corpus, derived, people, ledger, client, media, tmp_path):
    data = item_bytes(corpus, derived, name)
    path = file_path(tmp_path, corpus, derived, name)
    before = state()

    with pytest.raises(ImportFileError) as caught:
        import_workbook(as_upload(data, name), ledger=ledger, user=people["province"], dry_run=False)
    assert any(phrase in e for e in caught.value.errors), caught.value.errors

    client.force_login(people["province"])
    for url in (f"/ledgers/{ledger.code}/import/", f"/ledgers/{ledger.code}/progress-import/"):
        response = client.post(url, {"action": "preview", "file": as_upload(data, name)})
        page = response.content.decode()
        assert response.status_code == 400, url
        assert "未导入任何内容" in page, url
        if url.endswith("/import/"):
            assert phrase in page
    assert stored_files(media) == []

    with pytest.raises(CommandError) as caught:
        call_command("import_ledger", ledger.code, str(path), "--user", "sc")
    assert phrase in str(caught.value)
    with pytest.raises(CommandError):
        call_command("import_ledger", ledger.code, str(path), "--user", "sc", "--progress")
    assert state() == before


# --- formula-laden .xlsx ----------------------------------------------------------------------------


def test_formulas_as_county_names_are_refused_at_their_rows(period, nx, client):
    wb, rows = workbook(period)
    ws = wb["附件2"]
    counties = sorted(code for code in rows if code != NINGXIA)
    for code, text in zip(counties, make_corpus.FORMULAS):
        ws.cell(rows[code], 4).value = text
        ws.cell(rows[code], 4).data_type = "s"  # the text as typed, not a formula openpyxl would write
    data = to_bytes(wb)
    before = state()
    with pytest.raises(ImportFileError) as caught:
        read_attachment2(as_upload(data, "公式.xlsx"), province=Region.objects.get(code=NINGXIA), period=period)
    message = "\n".join(caught.value.errors)
    for code in counties[: len(make_corpus.FORMULAS)]:
        assert f"第 {rows[code]} 行" in message, message
    client.force_login(nx)
    response = client.post(A2_URL, {"action": "preview", "period": period.code, "province": NINGXIA, "file": as_upload(data, "公式.xlsx")})
    assert response.status_code == 400 and "未导入任何内容" in response.content.decode()
    assert state() == before


def test_formulas_as_indicator_values_are_refused_or_ignored_never_stored(period, nx):
    """A formula cell (written as one) has no value for the import; a formula typed as text is no month."""
    ningxia = Region.objects.get(code=NINGXIA)
    for as_text in (False, True):
        wb, rows = workbook(period)
        ws = wb["附件2"]
        for number, text in zip((1, 2, 3, 4, 5), make_corpus.FORMULAS):
            ws.cell(rows["640104"], col(number)).value = text
            if as_text:
                ws.cell(rows["640104"], col(number)).data_type = "s"
        before = state()
        if not as_text:  # only “=…” is a formula to Excel and openpyxl; the rest stay text
            for number in (3, 4, 5):
                ws.cell(rows["640104"], col(number)).value = "√"
        if as_text:
            with pytest.raises(ImportFileError) as caught:
                read_attachment2(as_upload(to_bytes(wb), "公式.xlsx"), province=ningxia, period=period)
            located = [e for e in caught.value.errors if f"第 {rows['640104']} 行" in e]
            assert len(located) == 5, caught.value.errors
        else:
            preview = read_attachment2(as_upload(to_bytes(wb), "公式.xlsx"), province=ningxia, period=period)
            county = next(r for r in preview.regions if r.region.code == "640104")
            assert 1 not in county.values and 2 not in county.values and {"1", "2"} <= set(county.missing)
        assert state() == before


# --- formula-looking text accepted as text: every export holds it as text -----------------------


def assert_no_formula(data, texts):
    wb = load_workbook(io.BytesIO(data))
    seen = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} = {cell.value!r}"
                if isinstance(cell.value, str):
                    seen.append(cell.value)
    for text in texts:
        assert any(text in value for value in seen), text


def test_formula_text_in_notes_and_progress_is_exported_as_text(period, people, chain, client, media, make_user):
    formulas = make_corpus.FORMULAS
    jinjiang = Region.objects.get(code="510104")
    county = people["county"]
    indicator_services.checkmarks_set(
        user=county,
        region=jinjiang,
        period=period,
        values={
            n: indicator_services.CheckmarkValue("done", done_month=timezone.localdate().replace(day=1), note=t)
            for n, t in zip((1, 2, 3, 4, 5), formulas)
        },
    )
    _city_part, county_part = chain
    client.force_login(county)
    response = client.post(
        f"/ledgers/assignments/{county_part.pk}/",
        {
            "action": "report",
            "report-version": "0",
            "report-status": "in_progress",
            "report-note": formulas[3],
            "report-progress_on": str(timezone.localdate()),
        },
    )
    assert response.status_code == 302
    assert Assignment.objects.get(pk=county_part.pk).progress == formulas[3]  # kept as typed

    province = people["province"]
    ledger_ = county_part.item.ledger
    from ledger import services as ledger_services

    ledger_services.ledger_item_save(
        user=province, ledger=ledger_, item=county_part.item, number=3, task=formulas[2], due_text="2022年底前"
    )
    assert_no_formula(export_workbook(ledger=ledger_, user=province), [formulas[2]])
    assert_no_formula(export_workbook(ledger=ledger_, user=province, progress=True), [formulas[3]])
    client.force_login(province)
    for path in (f"/ledgers/{ledger_.code}/export.xlsx", f"/ledgers/{ledger_.code}/progress.xlsx"):
        response = client.get(path)
        assert response.status_code == 200
        assert_no_formula(b"".join(response.streaming_content) if response.streaming else response.content, [])
    for kind in ("attachment2", "attachment3"):
        response = client.get(f"/reporting/export/{kind}/", {"region": "510000", "period": period.code})
        assert response.status_code == 200
        assert_no_formula(b"".join(response.streaming_content), [])
    snapshots = report_services.report_compile(user=province, province=Region.objects.get(code="510000"), period=period)
    for snapshot in snapshots:
        assert_no_formula(snapshot.xlsx.read(), [])


# --- the API: malformed JSON bodies -------------------------------------------------------------


@pytest.fixture
def api(period, people):
    cache.clear()
    token, secret = api_token_create(user=people["province"], name="政务平台", region=Region.objects.get(code="510104"), access="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def api_endpoints(period):
    return [
        ("PUT", CHECKMARKS.format("510104"), {"HTTP_IF_MATCH": '"0"'}),
        ("POST", f"/api/v1/periods/{period.code}/regions/510104/submit/", {}),
        ("PUT", "/api/v1/benefits/510104/2022/1/", {}),
        ("POST", f"/api/v1/periods/{period.code}/regions/510000/report-jobs/", {}),
    ]


@pytest.mark.parametrize("name", list(make_corpus.json_bodies()))
def test_every_malformed_json_body_is_refused_in_the_one_error_shape(name, api, period):
    body, (status, code) = make_corpus.json_bodies()[name]
    before = state()
    for method, url, headers in api_endpoints(period):
        response = api.generic(method, url, body, content_type="application/json", **headers)
        assert 400 <= response.status_code < 500, (url, response.status_code, response.content[:300])
        payload = response.json()
        assert set(payload) == {"code", "message", "errors"}, payload
        assert any("\u4e00" <= ch <= "\u9fff" for ch in payload["message"]), payload  # said in Chinese
        if "checkmarks" in url:  # the endpoint that reads the body: the exact answer
            assert response.status_code == status, (name, payload)
            if code:
                assert payload["code"] == code, (name, payload)
            if code == "parse_error":
                assert payload["message"].startswith("请求体不是有效的 JSON"), payload
            if code == "payload_too_large":
                assert "超过上限 1048576 字节" in payload["message"], payload
    assert state() == before


# --- evidence uploads: the county sheet and the ledger assignment page ---------------------------

EVIDENCE_ITEMS = {
    "evidence-exe.pdf": ("说明.pdf", "内容与扩展名不符"),
    "evidence-html.pdf": ("说明.pdf", "内容与扩展名不符"),
    "oversized-evidence.pdf": ("大文件.pdf", "大小 20971521 字节，超过上限 20971520 字节"),
    "exe": ("setup.exe", "类型不允许"),
}


def evidence_upload(corpus, key):
    name, _phrase = EVIDENCE_ITEMS[key]
    data = make_corpus.exe_named_pdf() if key == "exe" else Path(corpus[key]).read_bytes()
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def full_post(**overrides):
    data = {"version": "0", "action": "save"}
    for n in [n for n in range(1, 39) if n not in (21, 27, 29, 30, 33, 37, 38)]:
        data[f"status_{n}"] = "done"
        data[f"done_month_{n}"] = "2022-03"
    data.update(overrides)
    return data


@pytest.mark.parametrize("key", list(EVIDENCE_ITEMS))
def test_bad_evidence_is_refused_on_the_county_sheet_and_the_assignment_page(key, corpus, period, people, chain, client, media):
    _name, phrase = EVIDENCE_ITEMS[key]
    before = state()
    client.force_login(people["county"])
    response = client.post(SHEET, full_post(evidence_8=evidence_upload(corpus, key), note_6="已对接"))
    page = response.content.decode()
    assert response.status_code == 400 and phrase in page, page[-2000:]
    assert 'value="已对接"' in page  # what was typed is kept

    _city_part, county_part = chain
    response = client.post(
        f"/ledgers/assignments/{county_part.pk}/",
        {
            "action": "report",
            "report-version": "0",
            "report-status": "in_progress",
            "report-note": "正在推进",
            "report-progress_on": str(timezone.localdate()),
            "report-evidence": [evidence_upload(corpus, key)],
        },
    )
    page = response.content.decode()
    assert response.status_code == 400 and phrase in page
    assert state() == before
    assert stored_files(media) == []
