"""A ledger's Excel pages: the two exports, and the two imports (items; assignments' progress).

An import is upload → preview → confirm. The preview is the import itself, run through the services
and rolled back (``ledger.resources.import_workbook``), so it already shows every row's error,
permission errors included. Between the steps the upload is kept under MEDIA_ROOT/imports/ledger/
with a random name; the confirm form carries a token signed for this user, ledger and kind (it can
name no other file and serves no one else) and the preview's digest. Confirming runs the kept file
against the data as it is then and applies it only if it does exactly what the preview showed;
otherwise nothing is written and the new preview is shown. Kept files are deleted once applied,
and after a day in any case.
"""
import uuid
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header

from accounts.scoping import Action
from reporting.imports import ImportFileError

from .models import Ledger
from .resources import export_workbook, import_workbook

TEMPLATE = "ledger/import.html"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PENDING_DIR = "imports/ledger"
PENDING_MAX_AGE = 24 * 3600  # seconds
SIGNING_SALT = "ledger.views_excel.pending"


class UploadForm(forms.Form):
    file = forms.FileField(label="Excel 文件（.xlsx）", allow_empty_file=False,
                           widget=forms.FileInput(attrs={"accept": f".xlsx,{XLSX}"}))


class ConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
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
    token = _keep(upload, user=request.user, **page) if _confirmable(preview) else ""
    return _render_preview(request, page, preview, token)


def _confirmable(preview):
    return not preview.errors and bool(preview.new or preview.changed)


def _render_preview(request, page, preview, token, *, warning=""):
    confirm = ConfirmForm(initial={"token": token, "digest": preview.digest}) if token else None
    status = 409 if warning else 400 if preview.errors else 200
    return render(request, TEMPLATE, {
        **page, "form": UploadForm(), "preview": preview, "confirm": confirm, "warning": warning,
        "errors": preview.errors, "file_name": preview.file_name,
    }, status=status)


def _confirm(request, page):
    form = ConfirmForm(request.POST)
    pending = _pending(form.cleaned_data["token"], user=request.user, **page) if form.is_valid() else None
    if pending is None:
        errors = ["这次上传已失效（已导入、已超过一天或不是您上传的），请重新上传文件。"]
        return render(request, TEMPLATE, {**page, "form": UploadForm(), "errors": errors}, status=400)
    with default_storage.open(pending["path"], "rb") as kept:
        upload = ContentFile(kept.read(), name=pending["name"])
    try:
        preview = import_workbook(upload, ledger=page["ledger"], user=request.user, progress=page["progress"],
                                  dry_run=False, expected_digest=form.cleaned_data["digest"])
    except ImportFileError as exc:
        return render(request, TEMPLATE, {**page, "form": UploadForm(), "errors": exc.errors}, status=400)
    if not preview.applied:  # the same file from the same state does what the preview showed: so the state moved
        token = form.cleaned_data["token"] if _confirmable(preview) else ""
        warning = "预览之后台账中的数据有变动，未导入任何内容：下面是按最新数据重新生成的预览，请核对后再确认。"
        return _render_preview(request, page, preview, token, warning=warning)
    default_storage.delete(pending["path"])
    messages.success(
        request,
        f"已导入{preview.document}（{preview.file_name}）：新增 {len(preview.new)} 行，修改 {len(preview.changed)} 行，"
        f"未变 {len(preview.unchanged)} 行{'；进展记录的渠道为“导入”' if page['progress'] else ''}。",
    )
    return redirect(request.path)


# --- the kept uploads ---------------------------------------------------------------------------

def _keep(upload, *, user, ledger, progress):
    """Store the upload; returns the signed token that names it for this user, ledger and kind."""
    _sweep()
    upload.seek(0)
    path = default_storage.save(f"{PENDING_DIR}/{uuid.uuid4().hex}.xlsx", upload)
    meta = {"path": path, "name": upload.name, "user": user.pk, "ledger": ledger.code, "progress": progress}
    return signing.dumps(meta, salt=SIGNING_SALT)


def _pending(token, *, user, ledger, progress):
    """The kept upload's metadata if ``token`` is this user's, for this ledger and kind, fresh and still there."""
    try:
        meta = signing.loads(token, salt=SIGNING_SALT, max_age=PENDING_MAX_AGE)
    except signing.BadSignature:  # expired ones too
        return None
    if (meta["user"], meta["ledger"], meta["progress"]) != (user.pk, ledger.code, progress):
        return None
    return meta if default_storage.exists(meta["path"]) else None


def _sweep():
    """Delete kept uploads older than a day: previews that were never confirmed."""
    try:
        _folders, names = default_storage.listdir(PENDING_DIR)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - timedelta(seconds=PENDING_MAX_AGE)
    for name in names:
        path = f"{PENDING_DIR}/{name}"
        if default_storage.get_modified_time(path) < cutoff:
            default_storage.delete(path)
