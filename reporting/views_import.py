"""The 附件2 import page: upload → preview (nothing written) → confirm → applied all or nothing.

Between the two steps the upload is kept by the one upload store (``utilities.uploads``), for this
user and the purpose {"kind": "attachment2", province, period}. The confirm form carries only the
store's signed token and the preview's digest. The confirm step reads the kept file again against
the data as it is then: if what would be written differs from the preview the user saw, nothing is
written and the new preview is shown. Kept files are deleted once applied, and after a day in any case.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from utilities import uploads
from utilities.errors import ConflictError

from .forms import ImportConfirmForm, ImportUploadForm
from .imports import (
    DEFAULT_MAX_BYTES,
    ImportFileError,
    apply_attachment2,
    can_import,
    read_attachment2,
)

TEMPLATE = "reporting/import_attachment2.html"


def _purpose(province, period):
    """What a kept upload is for: confirming it for another province or period is refused."""
    return {"kind": "attachment2", "province": province.code, "period": period.code}


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
    token = uploads.keep(upload, user=user, purpose=_purpose(province, period))
    return _render_preview(request, preview, token)


def _render_preview(request, preview, token, *, status=200, warning=""):
    user = request.user
    initial = {"province": preview.province.code, "period": preview.period.code}
    confirm = ImportConfirmForm(user=user, initial={**initial, "token": token, "digest": preview.digest})
    return render(
        request,
        TEMPLATE,
        {
            "form": ImportUploadForm(user=user, initial=initial),
            "preview": preview,
            "confirm": confirm,
            "warning": warning,
        },
        status=status,
    )


def _confirm(request):
    user = request.user
    form = ImportConfirmForm(request.POST, user=user)
    if not form.is_valid():
        return _refuse(request, ["确认信息不完整或无效，请重新上传文件。"], status=400)
    province, period = form.cleaned_data["province"], form.cleaned_data["period"]
    token = form.cleaned_data["token"]
    kept = uploads.pending(token, user=user, purpose=_purpose(province, period))
    if kept is None:
        return _refuse(request, [uploads.EXPIRED], status=400)
    try:
        preview = read_attachment2(kept.as_file(), province=province, period=period, max_bytes=DEFAULT_MAX_BYTES)
    except ImportFileError as exc:
        return _refuse(request, exc.errors, status=400)
    if preview.digest != form.cleaned_data["digest"]:
        return _render_preview(
            request,
            preview,
            token,
            status=409,
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
    uploads.discard(kept)
    messages.success(
        request,
        f"已导入{province.name}{period.label}附件2（{preview.file_name or '上传文件'}）：{result.regions} 个区域，"
        f"其中 {result.regions_changed} 个有变更，共更新 {result.checkmarks_changed} 项指标；操作记录的渠道为“导入”。",
    )
    return redirect(request.path)


def _refuse(request, errors, *, status):
    return render(request, TEMPLATE, {"form": ImportUploadForm(user=request.user), "errors": errors}, status=status)
