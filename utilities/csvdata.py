"""Reading data files so that every problem names its file, line and field."""

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass
class DataError:
    file: str
    line: int | None
    field: str | None
    reason: str

    def __str__(self):
        where = self.file
        if self.line is not None:
            where += f" 第 {self.line} 行"
        if self.field:
            where += f" 字段“{self.field}”"
        return f"{where}：{self.reason}"


class DataFileError(Exception):
    """One or more problems in data files; nothing has been written when this is raised."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


def read_rows(path, required):
    """Yield ``(line_number, row)`` for each record of a CSV file, checking its header.

    Raises DataFileError naming the file when it is missing, not UTF-8, or lacks a column.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise DataFileError([DataError(name, None, None, "文件不存在。")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError([DataError(name, None, None, f"不是 UTF-8 编码（第 {exc.start} 字节）。")]) from exc
    lines = text.splitlines()
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise DataFileError([DataError(name, 1, None, "文件为空，缺少表头。")]) from None
    missing = [c for c in required if c not in header]
    if missing:
        raise DataFileError([DataError(name, 1, c, "表头缺少此列。") for c in missing])
    rows = []
    for number, values in enumerate(reader, start=2):
        if not values or not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise DataFileError([DataError(name, number, None, f"应有 {len(header)} 列，实有 {len(values)} 列。")])
        rows.append((number, dict(zip(header, (v.strip() for v in values)))))
    return header, rows
