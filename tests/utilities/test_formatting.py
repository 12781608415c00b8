"""One percentage for the whole portal: at most one decimal, half up, no trailing “.0” (填报说明)."""

from decimal import Decimal

import pytest

from utilities.formatting import NO_SHARE, percent, percent_text


@pytest.mark.parametrize(
    "part, whole, expected",
    [
        (1, 16, "6.3%"),
        (2, 3, "66.7%"),
        (1, 8, "12.5%"),
        (108, 150, "72%"),
        (28, 31, "90.3%"),
        (31, 31, "100%"),
        (1, 2, "50%"),
        (0, 31, "0%"),
        (1, 3, "33.3%"),
    ],
)
def test_percent_text_has_at_most_one_decimal_rounded_half_up(part, whole, expected):
    assert percent_text(part, whole) == expected


@pytest.mark.parametrize("part, whole", [(1, 16), (5, 16), (9, 16), (1, 80), (1, 400)])
def test_half_up_where_float_round_would_round_to_even(part, whole):
    """1/16 is exactly 6.25 %: float ``round`` gives 6.2 (half to even), the tables print 6.3."""
    exact = Decimal(part) * 100 / Decimal(whole)
    assert exact * 100 % 10 == 5  # exactly half a tenth: the case where the two rules part
    half_up = (exact * 10 + Decimal("0.5")) // 1 / 10
    assert percent(part, whole) == half_up
    assert percent_text(part, whole) == f"{half_up.normalize():f}%"
    assert Decimal(str(round(100 * part / whole, 1))) != half_up  # what the pictures page printed before


def test_a_share_of_nothing_is_a_slash_as_in_attachment2():
    """No counties to share: 附件2 prints “/”, the number is None (a bar of width 0, JSON null)."""
    assert percent(0, 0) is None
    assert percent_text(0, 0) == NO_SHARE == "/"


def test_the_text_is_the_number_written_out():
    for whole in range(1, 60):
        for part in range(whole + 1):
            value = percent(part, whole)
            assert value == value.quantize(Decimal("0.1"))
            assert abs(value - Decimal(100 * part) / whole) <= Decimal("0.05")
            text = percent_text(part, whole)
            assert text.endswith("%") and Decimal(text[:-1]) == value and not text.endswith(".0%")
