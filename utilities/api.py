"""The REST API's generic plumbing, shared by every app's API: the errors DRF does not define,
ETag / If-Match, the list view nested below a URL argument and strict boolean filters. The
pagination class is in utilities.pagination: DRF's generic views import it while they are defined.

Nothing here knows an app; the apps' views build on it.
"""

import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import exceptions, generics, status


def _error(name, status_code, default_code, default_detail):
    return type(
        name,
        (exceptions.APIException,),
        {
            "status_code": status_code,
            "default_code": default_code,
            "default_detail": default_detail,
        },
    )


PayloadTooLarge = _error("PayloadTooLarge", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "payload_too_large", "请求体过大。")
PreconditionFailed = _error("PreconditionFailed", status.HTTP_412_PRECONDITION_FAILED, "precondition_failed", "数据已被修改。")
PreconditionRequired = _error(
    "PreconditionRequired", status.HTTP_428_PRECONDITION_REQUIRED, "precondition_required", "缺少 If-Match 请求头。"
)
Conflict = _error("Conflict", status.HTTP_409_CONFLICT, "conflict", "与数据的当前状态冲突。")


# --- ETag and If-Match (RFC 9110 §8.8.3, §13.1.1) -------------------------------------------------


def etag(version):
    """A stored version as a strong entity tag."""
    return f'"{version}"'


# One element of If-Match's list: an optional weak prefix, the quoted opaque tag, then a comma or the end.
_ELEMENT = re.compile(r'[ \t]*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)')
_EMPTY_ELEMENT = re.compile(r"[ \t]*,")


def _is_number(text, *, digits):
    """ASCII digits only (str.isdigit also takes “²”), and few enough for int() to be cheap."""
    return text.isascii() and text.isdigit() and len(text) <= digits


def _entity_tags(header):
    """If-Match's list as [(weak, opaque)], or None when it is not a list of entity tags."""
    tags, position = [], 0
    while position < len(header):
        empty = _EMPTY_ELEMENT.match(header, position)  # RFC 9110 §5.6.1: empty list elements are allowed
        if empty:
            position = empty.end()
            continue
        element = _ELEMENT.match(header, position)
        if element is None or element.end() == position:
            return None
        tags.append((bool(element[1]), element[2]))
        position = element.end()
    return tags or None


def expected_version(request, current):
    """The version to hand to a write service, from If-Match; None for “*” (overwrite whatever is there).

    A write compares strongly (RFC 9110 §13.1.1): a weak tag (W/"3") never matches. A list matches
    if any of its tags does: ``current`` (a callable giving the stored version) is read only then,
    and the service still compares inside its transaction, so a version that moves meanwhile is 412.
    """
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired('缺少 If-Match 请求头：请先 GET 取得 ETag，再在 If-Match 中原样带上（如 If-Match: "3"）。')
    header = header.strip()
    if header == "*":
        return None
    tags = _entity_tags(header)
    if tags is None:
        raise PreconditionFailed(f'If-Match “{header[:40]}”与当前版本不符：应为读取时响应头 ETag 的值，如 "3"。')
    # Our tags are versions; a tag that is not one (or absurdly long) is valid but matches nothing.
    versions = sorted({int(opaque) for weak, opaque in tags if not weak and _is_number(opaque, digits=18)})
    if not versions:
        weak = next((f'W/"{opaque}"' for is_weak, opaque in tags if is_weak), None)
        if weak:
            raise PreconditionFailed(
                f'If-Match 中的弱标签 {weak[:40]} 不能用于写入（须强比较）：请原样带上读取时响应头 ETag 的值，如 "3"。'
            )
        raise PreconditionFailed(f'If-Match “{header[:40]}”与当前版本不符：应为读取时响应头 ETag 的值，如 "3"。')
    if len(versions) == 1:
        return versions[0]
    stored = current()
    return stored if stored in versions else versions[0]  # not among them: the service says who changed it


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='读取时响应头 ETag 的值（如 "3"）。数据此后已被他人修改则返回 412，不作任何修改；'
    '缺少时返回 428。写“*”表示有意覆盖当前数据，不作版本检查。弱标签（W/"3"）不能用于写入，返回 412；'
    '可列出多个标签（"3", "4"），当前版本为其中之一即可写入。',
    examples=[OpenApiExample("从未填写过的区域", value='"0"')],
)


# --- views ------------------------------------------------------------------------------------------


class NestedListView(generics.ListAPIView):
    """A list below something named in the URL (an indicator set, a period, an assignment).

    Subclasses set ``model`` and define ``nested_queryset(**url_kwargs)``.
    """

    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular calls this without URL arguments
            return self.model.objects.none()
        return self.nested_queryset(**self.kwargs)


# --- filters ----------------------------------------------------------------------------------------

BOOLEAN_TRUE, BOOLEAN_FALSE = ("true", "1"), ("false", "0")


class StrictBooleanField(forms.Field):
    """true / false (or 1 / 0, any case); empty is no filter; anything else is an error, never ignored."""

    widget = forms.TextInput  # Django's NullBooleanSelect turns an unknown value into None: no error

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().lower()
        if text in BOOLEAN_TRUE:
            return True
        if text in BOOLEAN_FALSE:
            return False
        raise ValidationError(f"“{str(value)[:40]}”不是有效的取值：应为 true 或 false（也可写 1 或 0）。", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A yes/no filter that answers 400 to a value it does not understand (e.g. ?locked=maybe)."""

    field_class = StrictBooleanField
