"""How numbers are written for people: file sizes and percentages (one definition each)."""

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache


def file_size_label(n):
    """A byte count as people read it: “25.3 MB”, “800 KB”, “12 字节”."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} 字节"


# A share of nothing: 附件2 prints it as it prints a cell that does not apply.
NO_SHARE = "/"


def percent(part, whole):
    """``part`` of ``whole`` in per cent, rounded half up to one decimal as the 填报说明 prints it
    (1 of 16 is 6.3, not float ``round``'s 6.2); None when ``whole`` is 0. A ``Decimal``: exact,
    for a bar's width or a JSON number. ``percent_text`` is the same number as text."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@lru_cache(maxsize=4096)  # the same few (part, whole) pairs fill a table: done of 31, counties of a city
def percent_text(part, whole):
    """Every percentage the portal shows or exports: at most one decimal, half up, no trailing “.0”:
    “90.3%”, “72%”, “100%”, “6.3%”; “/” when ``whole`` is 0 (a city or province without counties)."""
    value = percent(part, whole)
    return NO_SHARE if value is None else f"{value.normalize():f}%"
