"""Forms of the reporting pages: the 附件2 import (upload, then confirm)."""
from django import forms

from accounts.models import Region, RegionLevel
from accounts.scoping import Action
from indicators.models import Period


class _ProvincePeriodForm(forms.Form):
    """Period and province; the provinces offered are those the user may view (a province official: theirs)."""

    period = forms.ModelChoiceField(
        label="报告期", queryset=Period.objects.none(), to_field_name="code", empty_label=None,
    )
    province = forms.ModelChoiceField(
        label="省份", queryset=Region.objects.none(), to_field_name="code", empty_label=None,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].queryset = Period.objects.order_by("-ends")
        self.fields["province"].queryset = (
            Region.objects.restrict(user, Action.VIEW).filter(level=RegionLevel.PROVINCE).order_by("code")
        )
        self.fields["period"].label_from_instance = lambda p: f"{p.label}（{p.code}）"


class ImportUploadForm(_ProvincePeriodForm):
    file = forms.FileField(label="附件2 文件（.xlsx）", allow_empty_file=False)


class ImportConfirmForm(_ProvincePeriodForm):
    """The confirm step names the upload kept on the server by its random token, never by a path."""

    token = forms.UUIDField(widget=forms.HiddenInput)
    digest = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)
