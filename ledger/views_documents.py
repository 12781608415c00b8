"""A new document without a release (issue 13 §5): a national or province official uploads next
year's indicator set or ledger (.xlsx or CSV in the ``fixtures/reference/FORMAT.md`` layout),
previews it, and loads it — optionally running it as a program with its first period open.

Upload → preview (nothing stored) → confirm, the file kept between the steps by the one upload
store (``utilities.uploads``) under a token signed for this user and exactly these form values."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from accounts.models import Region
from utilities import uploads
from utilities.csvdata import DataFileError

from .reference import DOCUMENT_KINDS, document_load, document_preview

TEMPLATE = "indicators/program_upload.html"


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label="文件类型", choices=list(DOCUMENT_KINDS.items()))
    code = forms.SlugField(label="代码", max_length=64, help_text="英文小写、数字和连字符，如 chongqing-2024；作为方案运行时也是方案代码。")
    name = forms.CharField(label="名称", max_length=200)
    document = forms.CharField(label="文号", max_length=200, required=False)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    region = forms.CharField(label="所属区域代码", max_length=6, required=False, help_text="留空表示全国（仅国家能源局用户）。")
    run = forms.BooleanField(label="作为方案运行", required=False)
    period = forms.CharField(label="开放报告期", max_length=6, required=False, help_text="如 2024S1；只用于作为方案运行的指标体系。")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.region_id:  # a province official loads for its own province only
            self.fields["region"].initial = user.region.code
            self.fields["region"].disabled = True
            self.fields["region"].help_text = ""

    def clean_region(self):
        code = self.user.region.code if self.user.region_id else self.cleaned_data["region"].strip()
        if not code:
            return None
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise forms.ValidationError(f"区域 {code} 不存在。")
        return region

    def arguments(self):
        data = dict(self.cleaned_data)
        return {
            **{k: data[k] for k in ("kind", "code", "name", "document", "year", "region", "run")},
            "period_code": data["period"].strip(),
        }

    def purpose(self):
        """What the kept upload is for: exactly these values (the region by its code)."""
        arguments = self.arguments()
        return {"kind": "reference-document", **arguments, "region": arguments["region"].code if arguments["region"] else ""}


class UploadForm(forms.Form):
    file = forms.FileField(label="文件（.xlsx 或 .csv）")


class ConfirmForm(forms.Form):
    token = forms.RegexField(regex=uploads.TOKEN_PATTERN, max_length=2000, widget=forms.HiddenInput)


@login_required
def document_upload(request):
    if not request.user.has_perm("indicators.load_documents"):
        raise PermissionDenied("只有国家能源局和省级能源主管部门用户可以导入新的指标体系或台账。")
    form = DocumentForm(request.POST or None, user=request.user)
    page = {"form": form, "upload": UploadForm(), "kinds": DOCUMENT_KINDS}
    if request.method != "POST":
        return render(request, TEMPLATE, page)
    if not form.is_valid():
        return render(request, TEMPLATE, page, status=400)
    if request.POST.get("action") == "confirm":
        return _confirm(request, form, page)
    upload = UploadForm(request.POST, request.FILES)
    if not upload.is_valid():
        return render(request, TEMPLATE, {**page, "upload": upload}, status=400)
    file = upload.cleaned_data["file"]
    try:
        preview = document_preview(user=request.user, upload=file, **form.arguments())
    except DataFileError as exc:
        return render(request, TEMPLATE, {**page, "errors": exc.errors}, status=400)
    token = uploads.keep(file, user=request.user, purpose=form.purpose())
    return render(request, TEMPLATE, {**page, "preview": preview, "token": token, "file_name": file.name})


def _confirm(request, form, page):
    confirm = ConfirmForm(request.POST)
    kept = uploads.pending(confirm.cleaned_data["token"], user=request.user, purpose=form.purpose()) if confirm.is_valid() else None
    if kept is None:
        return render(request, TEMPLATE, {**page, "expired": uploads.EXPIRED}, status=400)
    try:
        preview = document_load(user=request.user, upload=kept.as_file(), **form.arguments())
    except DataFileError as exc:
        return render(request, TEMPLATE, {**page, "errors": exc.errors}, status=400)
    uploads.discard(kept)
    what = f"{DOCUMENT_KINDS[preview.kind]}“{preview.document.name}”（{len(preview.rows)} 项）"
    if preview.program_code:
        what += f"，并作为方案 {preview.program_code} 运行"
        if preview.period_code:
            what += f"，已开放报告期 {preview.period_code}"
    messages.success(request, f"已导入{what}。")
    return redirect("ledger:document-upload")
