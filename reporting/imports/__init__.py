"""Import 附件2 filled in offline, in the official layout (domain.md §5): preview first, then all or nothing.

``read_attachment2`` checks the file (size, format, template, province, period, every county and
every cell) and returns a ``Preview`` of what would change, or raises ``ImportFileError`` with one
located message per problem (“附件2 第 12 行 G 列（指标 3）：…”). Nothing is written.

``apply_attachment2`` writes a preview through ``indicators.services.checkmarks_set`` — one call
per region, channel “import”, inside one transaction — so a locked period, a region out of scope,
data changed since the preview or any value the service refuses rolls everything back.

What a cell means (read by ``indicators.cells.cell_value``, the reverse of the table's ``plain_text``):

- county rows, county indicators: “√” (also ✓ ✔ ☑, spaces around) is done. The table has no done
  month: the county's existing done month is kept, else the period's last month (not later than
  the current month) is used and the preview says so. “√ 2022年3月” gives the month. A month
  (“2021年8月”, “2021 年 8 月”, “2021-08”, “2021.8”, “2021/8”, a date cell) is not done, expected
  then. Blank is missing: reported in the preview, never an error, and it never clears a value the
  portal already holds (clearing is done on the sheet page).
- county rows, starred (province) indicators: “/” or blank.
- the province row: starred indicators “已完成” (done), “已开展” (done, encouraging indicators), a
  month (not done, expected; not for encouraging indicators) or blank; county indicators “/” or blank.
- city rows, 小计 rows, the statistics rows and the summary columns (完成个数…) are computed by the
  portal: their content is ignored.

The package, by responsibility: ``reading`` (the file, then ``reader.Reader``, the sheet step by
step; ``text``, how a cell's text is compared), ``preview`` (what importing would do, and as text)
and ``applying``. The names below are what the rest of the portal imports from ``reporting.imports``.
"""

from utilities.excel import ImportFileError

from .applying import apply_attachment2, can_import
from .preview import (
    Change,
    ImportResult,
    Preview,
    RegionPreview,
    describe,
    preview_lines,
)
from .reader import MAX_ERRORS, Reader
from .reading import (
    DEFAULT_MAX_BYTES,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_UNCOMPRESSED_BYTES,
    read_attachment2,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_COLUMNS",
    "MAX_ERRORS",
    "MAX_ROWS",
    "MAX_UNCOMPRESSED_BYTES",
    "Change",
    "ImportFileError",
    "ImportResult",
    "Preview",
    "Reader",
    "RegionPreview",
    "apply_attachment2",
    "can_import",
    "describe",
    "preview_lines",
    "read_attachment2",
]
