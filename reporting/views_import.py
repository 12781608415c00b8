"""The 附件2 import page: upload → preview (nothing written) → confirm → applied all or nothing.

Between the two steps the upload is kept on the server, under MEDIA_ROOT/imports/<uuid>.xlsx with
a <uuid>.json beside it saying who uploaded it, for which province and period. The confirm form
carries only the random uuid (checked as a UUID, so it can never name another path) and the
preview's digest. The confirm step reads the kept file again against the data as it is then: if
what would be written differs from the preview the user saw, nothing is written and the new
preview is shown. Kept files are deleted once applied, and after a day in any case.
"""
import json
import re
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone

from indicators.services import ConflictError

from .forms import ImportConfirmForm, ImportUploadForm
from .imports import DEFAULT_MAX_BYTES, ImportFileError, apply_attachment2, can_import, read_attachment2

TEMPLATE = "reporting/import_attachment2.html"
PENDING_DIR = "imports"
PENDING_MAX_AGE = 24 * 3600  # seconds
_PENDING_NAME = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(xlsx|json)$")


@login_required
def import_attachment2(request):
    if not can_import(request.user):
        return render(request, TEMPLATE, {"forbidden": True}, status=403)
    if request.method == "POST" and request.POST.get("action") == "confirm":
        return _confirm(request)
    if request.method == "POST":
        return _preview(request)
    return render(request, TEMPLATE, {"form": ImportUploadForm(user=request.user)})


def _preview(request):
    user = request.user
    form = ImportUploadForm(request.POST, request.FILES, user=user)
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form}, status=400)
    province, period, upload = form.cleaned_data["province"], form.cleaned_data["period"], form.cleaned_data["file"]
    try:
        preview = read_attachment2(upload, province=province, period=period, max_bytes=DEFAULT_MAX_BYTES)
    except ImportFileError as exc:
        return render(request, TEMPLATE, {"form": form, "errors": exc.errors, "file_name": upload.name}, status=400)
    token = _keep(upload, user=user, province=province, period=period)
    return _render_preview(request, preview, token)


def _render_preview(request, preview, token, *, status=200, warning=""):
    user = request.user
    initial = {"province": preview.province.code, "period": preview.period.code}
    confirm = ImportConfirmForm(user=user, initial={**initial, "token": token, "digest": preview.digest})
    return render(request, TEMPLATE, {
        "form": ImportUploadForm(user=user, initial=initial), "preview": preview, "confirm": confirm,
        "warning": warning,
    }, status=status)


def _confirm(request):
    user = request.user
    form = ImportConfirmForm(request.POST, user=user)
    if not form.is_valid():
        return _refuse(request, ["确认信息不完整或无效，请重新上传文件。"], status=400)
    province, period = form.cleaned_data["province"], form.cleaned_data["period"]
    token = str(form.cleaned_data["token"])
    path = _pending(token, user=user, province=province, period=period)
    if path is None:
        return _refuse(request, ["这次上传已失效（已导入、已超过一天或不是您上传的），请重新上传文件。"], status=400)
    try:
        preview = read_attachment2(path, province=province, period=period, max_bytes=DEFAULT_MAX_BYTES)
    except ImportFileError as exc:
        return _refuse(request, exc.errors, status=400)
    preview.file_name = _meta(token).get("name", "")
    if preview.digest != form.cleaned_data["digest"]:
        return _render_preview(
            request, preview, token, status=409,
            warning="预览之后门户中的数据有变动，未导入任何内容：下面是按最新数据重新生成的预览，请核对后再确认。",
        )
    try:
        result = apply_attachment2(user=user, preview=preview)
    except PermissionDenied as exc:
        return _refuse(request, [str(exc)], status=403)
    except ConflictError as exc:
        return _refuse(request, [exc.message, "未导入任何内容。"], status=409)
    except ValidationError as exc:
        return _refuse(request, [*exc.messages, "未导入任何内容。"], status=400)
    _discard(token)
    messages.success(
        request,
        f"已导入{province.name}{period.label}附件2（{preview.file_name or '上传文件'}）：{result.regions} 个区域，"
        f"其中 {result.regions_changed} 个有变更，共更新 {result.checkmarks_changed} 项指标；操作记录的渠道为“导入”。",
    )
    return redirect(request.path)


def _refuse(request, errors, *, status):
    return render(request, TEMPLATE, {"form": ImportUploadForm(user=request.user), "errors": errors}, status=status)


# --- the kept uploads -------------------------------------------------------------------------

def _directory():
    return Path(settings.MEDIA_ROOT) / PENDING_DIR


def _keep(upload, *, user, province, period):
    """Save the upload and its owner; returns the token. Old kept files go first."""
    directory = _directory()
    directory.mkdir(parents=True, exist_ok=True)
    _sweep(directory)
    token = str(uuid.uuid4())
    upload.seek(0)
    with (directory / f"{token}.xlsx").open("xb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    meta = {
        "user": user.pk, "province": province.code, "period": period.code,
        "name": upload.name, "at": timezone.now().isoformat(),
    }
    (directory / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return token


def _meta(token):
    try:
        return json.loads((_directory() / f"{token}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _pending(token, *, user, province, period):
    """The kept file of ``token`` if this user uploaded it for this province and period, and it is fresh."""
    path = _directory() / f"{token}.xlsx"
    meta = _meta(token)
    if meta.get("user") != user.pk or meta.get("province") != province.code or meta.get("period") != period.code:
        return None
    try:
        if time.time() - path.stat().st_mtime > PENDING_MAX_AGE:
            _discard(token)
            return None
    except OSError:
        return None
    return path


def _discard(token):
    for suffix in (".xlsx", ".json"):
        (_directory() / f"{token}{suffix}").unlink(missing_ok=True)


def _sweep(directory):
    now = time.time()
    for path in directory.iterdir():
        if not _PENDING_NAME.match(path.name):
            continue
        try:
            if now - path.stat().st_mtime > PENDING_MAX_AGE:
                path.unlink(missing_ok=True)
        except OSError:
            continue
