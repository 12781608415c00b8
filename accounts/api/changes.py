"""GET /api/v1/changes/: the change feed (accounts.changes), followed with opaque cursors.

A cursor is the last ``seq`` a client has seen and the user it was given to (a token acts as its own
service user), encrypted and authenticated with Fernet (AES-128-CBC + HMAC-SHA256, key derived from
SECRET_KEY): it survives restarts, cannot be forged, read or used by another client, and expires
CHANGES_CURSOR_MAX_AGE_DAYS after it was issued. Encrypted rather than only signed because the
position in the global sequence would tell a county how many changes other regions made. Events are
read through ``ChangeEvent.objects.restrict``: a client sees nothing of regions outside its scope.
"""

import base64
import json
import time

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.crypto import salted_hmac
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.changes import event_payload
from accounts.models import ChangeEvent
from accounts.scoping import Action

from .schema import ErrorSerializer

SALT = "accounts.api.changes.cursor"
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


class CursorError(exceptions.ValidationError):
    """A 400 whose code says what is wrong with the cursor; its message names the field."""

    def __init__(self, message, code):
        super().__init__({"cursor": [message]}, code=code)
        self.default_code = code
        self.message = message


def _fernet():
    key = salted_hmac(SALT, "fernet-key", algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(key))


def cursor_sign(*, user, seq):
    return _fernet().encrypt(json.dumps({"u": user.pk, "s": seq}).encode()).decode()


def cursor_read(*, user, cursor):
    """The ``seq`` after which ``user``'s next page starts (0: from the first event)."""
    if not cursor:
        return 0
    fernet = _fernet()
    invalid = CursorError("游标无效：请原样使用上一页响应中的 next，不要修改或拼接。", "cursor_invalid")
    try:
        issued = fernet.extract_timestamp(cursor.encode())
        value = json.loads(fernet.decrypt(cursor.encode()))
    except (InvalidToken, ValueError, UnicodeError):
        raise invalid from None
    if time.time() - issued > settings.CHANGES_CURSOR_MAX_AGE_DAYS * 86400:
        raise CursorError(
            f"游标已过期（超过 {settings.CHANGES_CURSOR_MAX_AGE_DAYS} 天未使用）：请重新从头读取（不带 cursor），按 id 去重。",
            "cursor_expired",
        )
    if not isinstance(value, dict) or value.get("u") != user.pk or not isinstance(value.get("s"), int):
        raise CursorError("游标不属于当前令牌（或登录用户）：每个客户端只能使用自己取得的游标。", "cursor_invalid")
    return value["s"]


class ChangeQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="上一页响应中的 next，原样带上；省略时从第一条变更开始。伪造、属于其他令牌或已过期的游标返回 400。",
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_LIMIT,
        default=DEFAULT_LIMIT,
        help_text=f"每页条数，1 至 {MAX_LIMIT}，默认 {DEFAULT_LIMIT}。",
    )


class ChangeEventSerializer(serializers.ModelSerializer):
    """The schema of ``accounts.changes.event_payload``, which writes the events."""

    id = serializers.CharField(
        read_only=True, help_text="事件标识（如 evt_3f2a…）：唯一且不变，重复收到（重试、重放、从头重读）时按它去重；顺序以返回顺序为准。"
    )
    object = serializers.CharField(source="object_url", read_only=True, help_text="对象在接口中的路径，GET 它可读到对象的当前状态。")
    region = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True, help_text="所属区域代码；全国层面的为 null。")
    data = serializers.DictField(
        read_only=True,
        help_text="对象的新状态，键随 type 而定（见 docs/api.md“变更订阅”）：checkmark.changed 为 period、program、region、"
        "indicator、label、status、done_month、expected_month、note、evidence；submission.changed 为 period、program、region、"
        "state、action、reason、exceptions；signoff.exception 为 period、program、region、city、signoff、action、reason；"
        "ledger_item.changed 至少有 ledger、number、title、deadline、action；assignment.changed 至少有 id、ledger、item、region、"
        "status、deadline、action、note；benefit.changed 至少有 company、region、year、half、households、saved_cost；"
        "snapshot.compiled 至少有 id、kind、period、program、region、created_at。",
    )

    class Meta:
        model = ChangeEvent
        fields = ["id", "type", "object", "at", "channel", "region", "version", "data"]
        read_only_fields = fields
        extra_kwargs = {
            "type": {"help_text": "事件类型，如 checkmark.changed、submission.changed、signoff.exception、ledger_item.changed。"},
            "at": {"help_text": "变更时间。"},
            "channel": {"help_text": "渠道：web 网页、api 接口、import 导入、system 系统。"},
            "version": {"help_text": "对象的新版本（即其 ETag 去掉引号）；没有版本的对象为空字符串。"},
        }


class ChangeFeedSerializer(serializers.Serializer):
    results = ChangeEventSerializer(many=True, help_text="游标之后的变更，按提交顺序。")
    next = serializers.CharField(help_text="下一次请求带上的游标：本页最后一条之后；本页为空时仍是原来的位置，稍后用它再取。")
    has_more = serializers.BooleanField(help_text="游标之后是否还有变更：为 true 时立即用 next 取下一页，否则稍后再取。")


CURSOR_ERRORS = OpenApiResponse(
    ErrorSerializer,
    "参数有误：cursor 无效（伪造、被修改或属于其他令牌：cursor_invalid）或已过期（cursor_expired），limit 超出范围（validation_error）。",
    [
        OpenApiExample(
            "游标无效",
            value={
                "code": "cursor_invalid",
                "message": "游标不属于当前令牌（或登录用户）：每个客户端只能使用自己取得的游标。",
                "errors": {"cursor": ["游标不属于当前令牌（或登录用户）：每个客户端只能使用自己取得的游标。"]},
            },
            response_only=True,
        ),
    ],
)


@extend_schema(
    tags=["变更订阅"],
    summary="变更订阅：按游标读取变更",
    description="按提交顺序返回令牌范围内的每一项变更（指标填报、审核状态、签收例外、台账、任务分解与进展、服务效益、报表快照），"
    "每条带类型、对象路径、时间、渠道、新版本和新状态。从头（不带 cursor）依次按 next 读取，即可重建当前数据；"
    "has_more 为 false 时稍后再用同一个 next 轮询。县级令牌看不到其他县的任何变更。",
    parameters=[ChangeQuerySerializer],
    responses={200: ChangeFeedSerializer, 400: CURSOR_ERRORS},
)
class ChangeFeedView(APIView):
    def get(self, request):
        query = ChangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after = cursor_read(user=request.user, cursor=query.validated_data.get("cursor"))
        limit = query.validated_data["limit"]
        events = list(
            ChangeEvent.objects.restrict(request.user, Action.VIEW)
            .filter(seq__gt=after)
            .select_related("region")
            .order_by("seq")[: limit + 1]
        )
        page = events[:limit]
        last = page[-1].seq if page else after
        results = [event_payload(event) for event in page]  # the webhooks' body too: one shape
        return Response({"results": results, "next": cursor_sign(user=request.user, seq=last), "has_more": len(events) > limit})
