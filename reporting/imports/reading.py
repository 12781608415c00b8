"""Reading a filled-in 附件2: the file checked (size, package, sheet, its extent) before the
``Reader`` goes through it. Nothing is written."""

from django.utils import timezone
from openpyxl.utils import get_column_letter

from utilities.excel import ImportFileError, open_workbook, plain_text, read_bytes

from .. import layout
from .reader import Reader

DEFAULT_MAX_BYTES = 5 * 1024 * 1024  # a real 附件2 is some tens of KB
MAX_UNCOMPRESSED_BYTES = 40 * 1024 * 1024  # all entries of the .xlsx package together, unpacked
MAX_ROWS = 1000  # the largest province (四川, 183 counties in 21 cities) needs about 260 rows
MAX_COLUMNS = 60  # 4 + 38 indicators + 3 summary columns = 45


def read_attachment2(file, *, province, period, max_bytes=DEFAULT_MAX_BYTES, today=None):
    """Parse a filled-in 附件2 of ``province`` for ``period``; return a Preview or raise ImportFileError.

    ``file``: a path, an uploaded file or any binary file object. The caller resolves ``province``
    through ``Region.objects.restrict(user, "view")``. Reads the database, writes nothing.
    """
    today = today or timezone.localdate()
    name, data = read_bytes(file, max_bytes, document="附件2")
    rows = _load_rows(name, data)
    reader = Reader(province=province, period=period, rows=rows, today=today)
    preview = reader.read()
    preview.file_name = name
    return preview


def _load_rows(name, data):
    """The 附件2 sheet's cell values, row by row (1-based through the list index + 1)."""
    shown = f"文件“{name}”" if name else "上传的文件"
    workbook = open_workbook(name, data, document="附件2", max_uncompressed=MAX_UNCOMPRESSED_BYTES)
    try:
        if layout.ATTACHMENT2_SHEET not in workbook.sheetnames:
            raise ImportFileError(
                [
                    f"{shown}中没有名为“{layout.ATTACHMENT2_SHEET}”的工作表（现有：{'、'.join(workbook.sheetnames[:10])}）"
                    "：这不是附件2 模板，请先在门户下载本期附件2 再填写。"
                ]
            )
        sheet = workbook[layout.ATTACHMENT2_SHEET]
        try:
            rows = [tuple(r) for r in sheet.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS + 1, values_only=True)]
        except Exception as exc:
            raise ImportFileError([f"{shown}的工作表“{layout.ATTACHMENT2_SHEET}”无法读取（{type(exc).__name__}），可能已损坏。"]) from exc
    finally:
        workbook.close()
    problems = []
    if len(rows) > MAX_ROWS and any(plain_text(v) for v in rows[MAX_ROWS]):
        problems.append(f"{layout.ATTACHMENT2_SHEET} 第 {MAX_ROWS + 1} 行仍有内容：工作表超过 {MAX_ROWS} 行，不像是附件2。")
    for index, row in enumerate(rows[:MAX_ROWS], start=1):
        if len(row) > MAX_COLUMNS and plain_text(row[MAX_COLUMNS]):
            problems.append(
                f"{layout.ATTACHMENT2_SHEET} 第 {index} 行 {get_column_letter(MAX_COLUMNS + 1)} 列有内容："
                f"工作表超过 {MAX_COLUMNS} 列，不像是附件2。"
            )
            break
    if problems:
        raise ImportFileError(problems)
    return rows[:MAX_ROWS]
