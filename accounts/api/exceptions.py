"""One error body for the whole API, whatever raised the error:

    {"code": "validation_error", "message": "<中文说明>", "errors": {"<字段或指标序号>": ["<中文说明>"]}}

Django's ValidationError and PermissionDenied (raised by the services) and the services'
ConflictError (utilities.errors) are mapped here, so views call the services and let errors through.
"""

import logging
import math

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from utilities.api import Conflict, PayloadTooLarge, PreconditionFailed
from utilities.errors import ConflictError, StaleVersion

logger = logging.getLogger(__name__)

PARSE_ERROR = "请求体不是有效的 JSON（须为 UTF-8 编码的 JSON 对象），未作任何修改"
INVALID_DATA = "请求数据有误，未作任何修改：请按 errors 中的说明修改后重试。"


# Every code the API answers with: the schema lists them, so nothing else may be sent. Most are
# DRF's own ``default_code``; these two are renamed to say what the client must do.
SERVER_ERROR = "server_error"
OTHER_ERROR = "error"
ERROR_CODES = (
    "validation_error",
    "parse_error",
    "not_authenticated",
    "permission_denied",
    "not_found",
    "method_not_allowed",
    "not_acceptable",
    "conflict",
    "precondition_failed",
    "payload_too_large",
    "unsupported_media_type",
    "precondition_required",
    "throttled",
    "idempotency_key_reused",
    "cursor_invalid",
    "cursor_expired",
    SERVER_ERROR,
    OTHER_ERROR,
)
RENAMED = {exceptions.ValidationError: "validation_error", exceptions.AuthenticationFailed: "not_authenticated"}

MESSAGES = {
    exceptions.NotAuthenticated: "未提供身份凭证：请在请求头中加上“Authorization: Token <密钥>”。",
    exceptions.Throttled: "请求过于频繁，已超过本客户端的速率限制。",
}


def _messages(detail):
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _messages(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _messages(value)]
    return [str(detail)]


def _field_errors(detail, prefix=""):
    """DRF's nested error detail as flat ``{"field.sub": [messages]}``; whole-body errors keep their key."""
    if isinstance(detail, dict):
        flat = {}
        for key, value in detail.items():
            if not prefix:
                name = str(key)
            elif key == api_settings.NON_FIELD_ERRORS_KEY:
                name = prefix  # a nested serializer's error about its whole value belongs to its field
            else:
                name = f"{prefix}.{key}"
            flat.update(_field_errors(value, name))
        return flat
    if isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            flat.update(_field_errors(item, f"{prefix}[{index}]"))
        return flat
    messages = _messages(detail)
    return {prefix or api_settings.NON_FIELD_ERRORS_KEY: messages} if messages else {}


def _from_django(exc):
    """Django's exceptions, as the services raise them, into the API's exceptions."""
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(f"请求体超过上限 {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} 字节，未作任何修改；请分批提交。")
    if isinstance(exc, RecursionError) and "JSON" in str(exc):
        # json's decoder recurses once per nesting level: a body nested thousands deep is a bad body, not a bug
        return exceptions.ParseError("JSON 嵌套层数过多")
    if isinstance(exc, Http404):
        return exceptions.NotFound(*exc.args)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, StaleVersion):
        return PreconditionFailed(exc.message)
    if isinstance(exc, ConflictError):
        return Conflict(exc.message)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = {key: [str(m) for e in value for m in e.messages] for key, value in exc.error_dict.items()}
        else:
            errors = {NON_FIELD_ERRORS: exc.messages}
        general = errors.pop(NON_FIELD_ERRORS, [])
        error = exceptions.ValidationError(errors)
        error.message = " ".join(general) or INVALID_DATA  # the body's message: what is wrong as a whole
        return error
    return exc


def _body(code, message, errors=None):
    return {"code": code, "message": message, "errors": errors or {}}


def exception_handler(exc, context):
    exc = _from_django(exc)
    if not isinstance(exc, exceptions.APIException):
        # A bug: keep the record (and the test client's re-raise) but answer in the API's shape.
        request = context.get("request")
        logger.error("未处理的接口异常", exc_info=exc)
        got_request_exception.send(sender=None, request=getattr(request, "_request", request))
        return Response(_body(SERVER_ERROR, "服务器内部错误，已记录；请稍后重试或联系管理员。"), status=500)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    wait = getattr(exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(math.ceil(wait))
    code = RENAMED.get(type(exc), exc.default_code)
    if code not in ERROR_CODES:
        code = SERVER_ERROR if exc.status_code >= 500 else OTHER_ERROR
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        message = getattr(exc, "message", None) or INVALID_DATA
    else:
        errors = {}
        message = MESSAGES.get(type(exc)) or " ".join(_messages(exc.detail))
        if isinstance(exc, exceptions.ParseError):  # DRF's own text is English: say it in Chinese, keep the cause
            message = f"{PARSE_ERROR}（{message}）"
    if wait is not None:
        message += f"请在 {math.ceil(wait)} 秒后重试。"
    set_rollback()
    return Response(_body(code, message, errors), status=exc.status_code, headers=headers)
