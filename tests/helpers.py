"""Plain helpers several test modules share: the API's paths and error shape, a browser login,
a filled county sheet, a 附件2 workbook built in the official layout, a small PDF.

Fixtures live in the conftest.py files; this module holds functions and constants only."""

import hashlib
import io
import os
import threading
from datetime import date
from pathlib import Path

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from rest_framework.test import APIClient

from accounts.models import ChangeEvent, Region
from indicators import services
from indicators.models import Indicator
from reporting import layout
from reporting.tables import CityInput, Column, CountyInput, Header, build_attachment2

V1 = "/api/v1"


CHECKMARKS = f"{V1}/periods/2022S1/regions/{{}}/checkmarks/"


JINJIANG, QINGYANG, CHENGDU, SICHUAN, YUZHONG = "510104", "510105", "510100", "510000", "500103"


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "errors"} and body["code"] == code and body["message"]
    return body


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("button[type=submit]")
    page.wait_for_selector("h1")


def screenshot(page, name):
    """Save a full-page screenshot as a test artefact (test-results/screenshots/, or $TEST_ARTIFACTS):
    the pages as their users see them, kept by CI beside the test report."""
    folder = Path(os.environ.get("TEST_ARTIFACTS", "test-results")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def logout(page):
    page.click("text=退出")
    page.wait_for_url("**/login/")


def region(code):
    return Region.objects.get(code=code)


def fill(user, code, period, *, blank=(), overdue=(), today=date(2022, 7, 12)):
    """√ for every county indicator but ``blank`` (left blank) and ``overdue`` (expected in March 2022)."""
    values = {}
    for indicator in Indicator.objects.filter(indicator_set=period.indicator_set, level="county"):
        if indicator.number in overdue:
            values[indicator.number] = services.CheckmarkValue(status="not_done", expected_month=date(2022, 3, 1))
        elif indicator.number not in blank:
            values[indicator.number] = services.CheckmarkValue(status="done", done_month=date(2022, 1, 1))
    services.checkmarks_set(user=user, region=region(code), period=period, values=values, today=today)


def labels(period, level):
    return list(
        Indicator.objects.filter(indicator_set=period.indicator_set, level=level, encouraging=False)
        .order_by("number")
        .values_list("label", flat=True)
    )


PROVINCE = "640000"  # 宁夏回族自治区


STARRED = (21, 27, 29, 30, 33, 37, 38)


COUNTY_NUMBERS = [n for n in range(1, 39) if n not in STARRED]


PROVINCE_CELLS = {21: "已完成", 27: "2022年8月", 29: "已完成", 30: "已完成", 33: "2022年9月", 37: "已开展", 38: ""}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def col(number):
    """The sheet column of indicator ``number`` (the national 38 in number order)."""
    return layout.FIRST_INDICATOR_COL + number - 1


def letter(number):
    from openpyxl.utils import get_column_letter

    return get_column_letter(col(number))


def build_table(period, *, code=PROVINCE, counties=None, province_cells=None, default="√", skip=()):
    """附件2 of a province: every county ``default`` in every county cell unless ``counties`` says otherwise."""
    province = Region.objects.get(code=code)
    indicators = period.indicator_set.indicators.order_by("number")
    columns = [Column(i.number, i.label, i.group, i.level) for i in indicators]
    counties = counties or {}
    cities = []
    for city in Region.objects.filter(parent=province).order_by("code"):
        inputs = [
            CountyInput(c.code, c.name, {n: counties.get(c.code, {}).get(n, default) for n in COUNTY_NUMBERS})
            for c in city.children.order_by("code")
            if c.code not in skip
        ]
        cities.append(CityInput(city.code, city.name, inputs))
    header = Header(layout.attachment2_title(province.name), period.span_label, province.code, province.name, period.code)
    cells = PROVINCE_CELLS if province_cells is None else province_cells
    return build_attachment2(header=header, columns=columns, province_cells=cells, cities=cities)


def write_workbook(table):
    """The table at the places layout.py gives; returns the workbook and each region's row."""
    wb = Workbook()
    ws = wb.active
    ws.title = layout.ATTACHMENT2_SHEET
    ws.cell(layout.TITLE_ROW, 1, table.header.title)
    ws.cell(layout.PERIOD_ROW, 1, table.header.period_line)
    ws.cell(layout.PEOPLE_ROW, 1, "填报人及手机联系方式：张三 13800000000")
    for column, text in ((1, "序号"), (2, "省"), (3, "地市"), (4, "县")):
        ws.cell(layout.HEADER_TOP_ROW, column, text)
    ws.cell(layout.HEADER_TOP_ROW, layout.FIRST_INDICATOR_COL, "指标完成情况")
    column = layout.FIRST_INDICATOR_COL
    for name, span in table.groups:
        ws.cell(layout.GROUP_ROW, column, name)
        column += span
    for offset, c in enumerate(table.columns):
        ws.cell(layout.LABEL_ROW, layout.FIRST_INDICATOR_COL + offset, c.label)
    done_col, not_done_col, percent_col = layout.summary_columns(len(table.columns))
    ws.cell(layout.HEADER_TOP_ROW, done_col, "省、地市、县指标完成情况")
    for column, text in ((done_col, "完成个数"), (not_done_col, "未完成个数"), (percent_col, "完成百分比")):
        ws.cell(layout.GROUP_ROW, column, text)
    rows = {}
    for number, row in enumerate(table.rows, start=layout.FIRST_DATA_ROW):
        values = [row.serial, row.province, row.city, row.county, *row.cells, row.done, row.not_done, row.percent]
        for column, value in enumerate(values, start=1):
            if value not in ("", None):
                ws.cell(number, column, value)
        if row.region_code and row.kind in ("province", "county"):
            rows[row.region_code] = number
    ws.cell(number + 2, 1, layout.FOOT_TEXT)
    return wb, rows


def to_bytes(wb):
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def workbook(period, **kwargs):
    return write_workbook(build_table(period, **kwargs))


PDF = b"%PDF-1.4\n%%EOF\n"


def pdf(name="佐证.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def forget_celery_connections(app):
    """The app caches its broker pool and result backend: drop them so a changed URL takes effect."""
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app._backend_cache = None
    app._local = threading.local()


def table_digest(queryset, *fields):
    """A table's rows as (count, digest): equal before and after means nothing was changed."""
    rows = list(queryset.order_by("pk").values_list(*fields))
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1, in threads, for webhook tests: it records every POST and
    answers each with the next of ``answers`` (a status code, "hang" or "huge"; 200 when empty).

    "hang" waits until ``close()``; "huge" answers 500 with a 50 MB body, and ``huge_sent`` tells
    how much of it went out before the sender hung up.
    """

    HUGE = 50 * 1024 * 1024

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from types import SimpleNamespace

        self.received, self.answers = [], []
        self.released, self.huge_done = threading.Event(), threading.Event()
        self.huge_sent = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(SimpleNamespace(path=self.path, headers=dict(self.headers), body=body))
                answer = receiver.answers.pop(0) if receiver.answers else 200
                if answer == "hang":
                    receiver.released.wait(30)
                elif answer == "huge":
                    self.send_response(500)
                    self.send_header("Content-Length", str(receiver.HUGE))
                    self.end_headers()
                    try:
                        while receiver.huge_sent < receiver.HUGE:
                            self.wfile.write(b"x" * 65536)
                            receiver.huge_sent += 65536
                    except OSError:
                        pass
                    receiver.huge_done.set()
                else:
                    reply = f"answer {answer}".encode()
                    self.send_response(answer)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?from=portal"

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


# --- the change feed's events (accounts.changes) ----------------------------------------------------


def events(type, after=0):
    """The recorded events of ``type`` after seq ``after``, oldest first."""
    return list(ChangeEvent.objects.filter(type=type, seq__gt=after).select_related("region", "user"))


def last_seq():
    return ChangeEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def read(user, event):
    """What the API shows at the event's path, to ``user``."""
    cache.clear()  # throttle counts
    client = APIClient()
    client.force_login(user)
    response = client.get(event.object_url)
    assert response.status_code == 200, (event.object_url, response.content)
    return response.json()
