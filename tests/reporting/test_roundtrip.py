"""The offline path end to end: blank official form → filled by hand → import → compile → export."""

from io import BytesIO

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from accounts.models import Region
from indicators.models import AuditEntry, Checkmark
from indicators.services import period_open
from reporting import layout
from reporting.models import ReportSnapshot

pytestmark = pytest.mark.django_db

PROVINCE = "640000"  # 宁夏: 5 cities, 22 counties


def test_blank_form_filled_imported_compiled_exported(tmp_path, settings, make_user):
    settings.MEDIA_ROOT = tmp_path / "media"
    period_open(code="2022S1")
    make_user("nx", "province", PROVINCE)
    blank = tmp_path / "blank.xlsx"
    call_command("export_report", "attachment2", "--period", "2022S1", "--province", PROVINCE, "-o", str(blank))

    # Fill it as a clerk would: every county ticks everything except indicator 3 of the first county
    # of each city, which gets an expected month; the province fills its starred cells.
    workbook = load_workbook(blank)
    sheet = workbook[layout.ATTACHMENT2_SHEET]
    labels = {sheet.cell(layout.LABEL_ROW, c).value: c for c in range(layout.FIRST_INDICATOR_COL, layout.FIRST_INDICATOR_COL + 38)}
    expected, county_rows = {}, 0
    for row in range(layout.FIRST_DATA_ROW, sheet.max_row + 1):
        serial = str(sheet.cell(row, layout.COL_SERIAL).value or "")
        county = sheet.cell(row, layout.COL_COUNTY).value
        if serial.count(".") == 1 and not str(county).endswith("小计"):
            county_rows += 1
            first_of_city = serial.endswith(".1")
            for label, column in labels.items():
                if not label.startswith("*"):
                    value = "2022年12月" if first_of_city and label == "3" else "√"
                    sheet.cell(row, column).value = value
                    expected[(county, label)] = value
        elif sheet.cell(row, layout.COL_PROVINCE).value == "宁夏回族自治区":
            for label in ("*21", "*27", "*29", "*30", "*33"):
                sheet.cell(row, labels[label]).value = "已完成"
            sheet.cell(row, labels["*37"]).value = "已开展"
    filled = tmp_path / "filled.xlsx"
    workbook.save(filled)
    assert county_rows == Region.objects.filter(level="county", path__startswith="640000/").count()

    call_command("import_attachment2", str(filled), "--period", "2022S1", "--province", PROVINCE, "--user", "nx", "--dry-run")
    assert not Checkmark.objects.exists()
    call_command("import_attachment2", str(filled), "--period", "2022S1", "--province", PROVINCE, "--user", "nx")
    assert Checkmark.objects.filter(status="done", indicator__level="county").count() == 31 * county_rows - 5
    assert AuditEntry.objects.filter(channel="import").count() == 31 * county_rows + 6

    call_command("compile_reports", "--period", "2022S1", "--province", PROVINCE)
    snapshot = ReportSnapshot.objects.get(kind="attachment2", region__code=PROVINCE)
    exported = load_workbook(BytesIO(snapshot.xlsx.read()))[layout.ATTACHMENT2_SHEET]
    done_col, not_done_col, percent_col = layout.summary_columns(38)
    seen = 0
    for row in range(layout.FIRST_DATA_ROW, exported.max_row + 1):
        county = exported.cell(row, layout.COL_COUNTY).value
        serial = str(exported.cell(row, layout.COL_SERIAL).value or "")
        if serial.count(".") == 1 and not str(county).endswith("小计"):
            seen += 1
            for label, column in labels.items():
                if not label.startswith("*"):
                    assert exported.cell(row, column).value == expected[(county, label)]
            first_of_city = serial.endswith(".1")
            assert exported.cell(row, done_col).value == (30 if first_of_city else 31)
            assert exported.cell(row, percent_col).value == ("96.8%" if first_of_city else "100%")
        if exported.cell(row, layout.COL_PROVINCE).value == "宁夏回族自治区":
            assert exported.cell(row, labels["*21"]).value == "已完成"
            assert exported.cell(row, labels["*37"]).value == "已开展"
            assert exported.cell(row, done_col).value == county_rows - 5
    assert seen == county_rows
