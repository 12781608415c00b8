"""Forms of the reporting pages: the 附件2 import (upload, then confirm), the 附件3 benefit figures."""

from decimal import Decimal, InvalidOperation

from django import forms

from accounts.models import Region, RegionLevel
from accounts.scoping import Action
from indicators.models import Period
from indicators.selectors import program_get
from utilities.uploads import TOKEN_PATTERN

from .models import Benefit
from .tables import BENEFIT_CATEGORIES, BENEFIT_MEASURES


class _ProvincePeriodForm(forms.Form):
    """Period and province; the provinces offered are those the user may view (a province official: theirs)."""

    period = forms.ModelChoiceField(
        label="报告期",
        queryset=Period.objects.none(),
        to_field_name="code",
        empty_label=None,
    )
    province = forms.ModelChoiceField(
        label="省份",
        queryset=Region.objects.none(),
        to_field_name="code",
        empty_label=None,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # 附件2 is the national program's table: its periods only.
        self.fields["period"].queryset = Period.objects.filter(program=program_get()).order_by("-ends")
        self.fields["province"].queryset = Region.objects.restrict(user, Action.VIEW).filter(level=RegionLevel.PROVINCE).order_by("code")
        self.fields["period"].label_from_instance = lambda p: f"{p.label}（{p.code}）"


class ImportUploadForm(_ProvincePeriodForm):
    file = forms.FileField(label="附件2 文件（.xlsx）", allow_empty_file=False)


class ImportConfirmForm(_ProvincePeriodForm):
    """The confirm step names the upload kept on the server by its signed token (utilities.uploads), never by a path."""

    token = forms.RegexField(regex=TOKEN_PATTERN, max_length=2000, widget=forms.HiddenInput)
    digest = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)


# Benefit's own column limits, as the API's serializer has them: larger values are refused here
# rather than by the database.
MAX_HOUSEHOLDS = 2_147_483_647
AMOUNT_DIGITS = Benefit._meta.get_field("investment").max_digits


def figure_parse(raw, *, places, label):
    """One benefit figure as typed: blank is 0; anything that is not a finite, non-negative number
    with at most ``places`` decimals and within the column is refused, naming the field."""
    text = str(raw).strip()
    if not text:
        return Decimal(0)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise forms.ValidationError(f"{label}“{text[:40]}”不是数字。") from None
    if not number.is_finite():  # NaN, Infinity: Decimal reads them, they are not figures
        raise forms.ValidationError(f"{label}“{text[:40]}”不是数字。")
    if number < 0:
        raise forms.ValidationError(f"{label}不能为负数。")
    limit = Decimal(MAX_HOUSEHOLDS) if places == 0 else Decimal(10) ** (AMOUNT_DIGITS - places) - Decimal(1).scaleb(-places)
    if number > limit:  # before any rounding: 1e400 must not reach quantize()
        raise forms.ValidationError(f"{label}不能超过 {limit}。")
    if places == 0 and number != number.to_integral_value():
        raise forms.ValidationError(f"{label}必须是整数。")
    if places and number.as_tuple().exponent < -places:
        raise forms.ValidationError(f"{label}最多保留 {places} 位小数。")
    return int(number) if places == 0 else number.quantize(Decimal(1).scaleb(-places))


class BenefitsForm(forms.Form):
    """附件3's sixteen cells of one area and half-year, named ``category-measure`` as on the page."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for category, category_label in BENEFIT_CATEGORIES:
            for measure, measure_label, _places in BENEFIT_MEASURES:
                self.fields[f"{category}-{measure}"] = forms.CharField(
                    label=f"{category_label}的{measure_label}",
                    required=False,
                    strip=True,
                )

    def clean(self):
        cleaned = super().clean()
        for category, _label in BENEFIT_CATEGORIES:
            for measure, _measure_label, places in BENEFIT_MEASURES:
                name = f"{category}-{measure}"
                if name not in cleaned:
                    continue
                try:
                    cleaned[name] = figure_parse(cleaned[name], places=places, label=self.fields[name].label)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return cleaned

    def figures(self):
        """As benefits_set takes them: (category, measure) → value."""
        return {
            (category, measure): self.cleaned_data[f"{category}-{measure}"]
            for category, _label in BENEFIT_CATEGORIES
            for measure, _l, _p in BENEFIT_MEASURES
        }
