"""A ledger's Excel pages: the two exports, and the two imports (items; assignments' progress).

An import is upload → preview → confirm. The preview is the import itself, run through the services
and rolled back (``ledger.resources.import_workbook``), so it already shows every row's error,
permission errors included. Between the steps the upload is kept by the one upload store
(``utilities.uploads``); the confirm form carries its token, signed for this user, ledger and kind
(it can name no other file and serves no one else), and the preview's digest. Confirming runs the kept file
against the data as it is then and applies it only if it does exactly what the preview showed;
otherwise nothing is written and the new preview is shown. Kept files are deleted once applied,
and after a day in any case.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header

from accounts.scoping import Action
from utilities import uploads
from utilities.excel import ImportFileError

from .models import Ledger
from .resources import export_workbook, import_workbook

TEMPLATE = "ledger/import.html"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    file = forms.FileField(label="Excel 文件（.xlsx）", allow_empty_file=False, widget=forms.FileInput(attrs={"accept": f".xlsx,{XLSX}"}))


class ConfirmForm(forms.Form):
    token = forms.RegexField(regex=uploads.TOKEN_PATTERN, max_length=2000, widget=forms.HiddenInput)
    digest = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)


def _ledger(request, code):
    return get_object_or_404(Ledger.objects.restrict(request.user, Action.VIEW).select_related("region"), code=code)


# --- exports ------------------------------------------------------------------------------------


@login_required
def export(request, code, progress=False):
    """The items in the documents' layout, or (``progress``) the assignments with their progress."""
    ledger = _ledger(request, code)
    data = export_workbook(ledger=ledger, user=request.user, progress=progress)
    name = f"{ledger.name}{'任务分解及进展' if progress else ''}.xlsx"
    return HttpResponse(data, content_type=XLSX, headers={"Content-Disposition": content_disposition_header(True, name)})


# --- imports ------------------------------------------------------------------------------------


@login_required
def import_page(request, code, progress=False):
    """Upload → preview → confirm, for the items or (``progress``) the assignments' progress."""
    page = {"ledger": _ledger(request, code), "progress": progress}
    if request.method != "POST":
        return render(request, TEMPLATE, {**page, "form": UploadForm()})
    if request.POST.get("action") == "confirm":
        return _confirm(request, page)
    return _preview(request, page)


def _preview(request, page):
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, TEMPLATE, {**page, "form": form}, status=400)
    upload = form.cleaned_data["file"]
    try:
        preview = import_workbook(upload, ledger=page["ledger"], user=request.user, progress=page["progress"])
    except ImportFileError as exc:
        return render(request, TEMPLATE, {**page, "form": form, "errors": exc.errors, "file_name": upload.name}, status=400)
    token = uploads.keep(upload, user=request.user, purpose=_purpose(**page)) if _confirmable(preview) else ""
    return _render_preview(request, page, preview, token)


def _confirmable(preview):
    return not preview.errors and bool(preview.new or preview.changed)


def _render_preview(request, page, preview, token, *, warning=""):
    confirm = ConfirmForm(initial={"token": token, "digest": preview.digest}) if token else None
    status = 409 if warning else 400 if preview.errors else 200
    return render(
        request,
        TEMPLATE,
        {
            **page,
            "form": UploadForm(),
            "preview": preview,
            "confirm": confirm,
            "warning": warning,
            "errors": preview.errors,
            "file_name": preview.file_name,
        },
        status=status,
    )


def _confirm(request, page):
    form = ConfirmForm(request.POST)
    kept = uploads.pending(form.cleaned_data["token"], user=request.user, purpose=_purpose(**page)) if form.is_valid() else None
    if kept is None:
        return render(request, TEMPLATE, {**page, "form": UploadForm(), "errors": [uploads.EXPIRED]}, status=400)
    try:
        preview = import_workbook(
            kept.as_file(),
            ledger=page["ledger"],
            user=request.user,
            progress=page["progress"],
            dry_run=False,
            expected_digest=form.cleaned_data["digest"],
        )
    except ImportFileError as exc:
        return render(request, TEMPLATE, {**page, "form": UploadForm(), "errors": exc.errors}, status=400)
    if not preview.applied:  # the same file from the same state does what the preview showed: so the state moved
        token = form.cleaned_data["token"] if _confirmable(preview) else ""
        warning = "预览之后台账中的数据有变动，未导入任何内容：下面是按最新数据重新生成的预览，请核对后再确认。"
        return _render_preview(request, page, preview, token, warning=warning)
    uploads.discard(kept)
    messages.success(
        request,
        f"已导入{preview.document}（{preview.file_name}）：新增 {len(preview.new)} 行，修改 {len(preview.changed)} 行，"
        f"未变 {len(preview.unchanged)} 行{'；进展记录的渠道为“导入”' if page['progress'] else ''}。",
    )
    return redirect(request.path)


# --- the kept uploads ---------------------------------------------------------------------------


def _purpose(*, ledger, progress):
    """What a kept upload is for: this ledger, and items or progress."""
    return {"kind": "ledger", "ledger": ledger.code, "progress": progress}
