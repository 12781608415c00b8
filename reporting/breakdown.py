"""附件3 with its breakdown by supply company and city (pure, like reporting.tables).

The official table is ``tables.build_attachment3`` unchanged; the breakdown repeats its four rows ×
five columns (the four categories and 合计) for each company and city, rounded the same way, then
the province's total, which equals the official table.
"""

from dataclasses import dataclass, field

from .tables import Attachment3, build_attachment3

BREAKDOWN_TOTAL_COMPANY = "合计"


@dataclass
class Attachment3WithBreakdown(Attachment3):
    # [{"company", "city", "rows"}] per company and city, then the total; ``rows`` as Attachment3's
    breakdown: list = field(default_factory=list)


def build_attachment3_breakdown(*, header, totals, blocks, province_name):
    """``totals`` as ``build_attachment3`` takes them; ``blocks`` as ``selectors.attachment3_breakdown``
    returns them: ``[(company name, city name, totals)]``."""
    table = build_attachment3(header=header, totals=totals)
    breakdown = [
        {"company": company, "city": city, "rows": build_attachment3(header=None, totals=block).rows} for company, city, block in blocks
    ]
    breakdown.append({"company": BREAKDOWN_TOTAL_COMPANY, "city": province_name, "rows": table.rows})
    return Attachment3WithBreakdown(table.header, table.rows, breakdown)
