"""The OpenAPI schema's shared parts: the error body, the error responses every operation can
give, and the common path parameters. Every description is in Chinese: integrators read the
schema, not the code."""

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from .exceptions import ERROR_CODES


class ErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=ERROR_CODES,
        help_text="错误类别，供程序判断：validation_error 数据有误，parse_error 不是合法 JSON，not_authenticated 未认证，"
        "permission_denied 无权操作，not_found 不存在或不在管辖范围内，conflict 与数据状态冲突（已锁定、审核状态不允许），"
        "precondition_failed 版本已变（If-Match 不符），precondition_required 缺少 If-Match，payload_too_large 请求体过大，"
        "throttled 请求过于频繁，unsupported_media_type 请求体不是 JSON，method_not_allowed 不支持该方法，"
        "idempotency_key_reused 同一 Idempotency-Key 已用于另一个不同的请求，cursor_invalid 变更游标无效或属于其他令牌，"
        "cursor_expired 变更游标已过期。",
    )
    message = serializers.CharField(help_text="中文说明，可直接展示给用户。")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="逐字段的错误：键为字段名（嵌套字段以“.”连接）或指标序号（如“3”“*21”），整个请求体的错误键为“body”；"
        "值为中文说明的列表。没有字段错误时为空对象。",
    )


# Per status: what it means, and examples of its body as (title, code, message[, errors]).
ERROR_DOCS = {
    400: (
        "请求数据有误（格式、类型、取值或业务校验未通过），未作任何修改；筛选参数或 page_size 的值无效也返回 400。",
        [
            (
                "字段错误",
                "validation_error",
                "请求数据有误，未作任何修改：请按 errors 中的说明修改后重试。",
                {"3": ["指标 3 的完成月份：“2021/13”不是有效的月份，应写作“2022-03”。"], "99": ["指标 99 不是本期县级指标。"]},
            ),
            ("业务校验", "validation_error", "以下指标尚未填写完整：5、7。"),
            (
                "筛选值无效",
                "validation_error",
                "请求数据有误，未作任何修改：请按 errors 中的说明修改后重试。",
                {"locked": ["“maybe”不是有效的取值：应为 true 或 false（也可写 1 或 0）。"]},
            ),
        ],
    ),
    401: (
        "未提供令牌，或令牌无效、已吊销。",
        [
            ("未认证", "not_authenticated", "未提供身份凭证：请在请求头中加上“Authorization: Token <密钥>”。"),
        ],
    ),
    403: (
        "已认证但无权执行：角色不符、只读令牌发出写请求、区域可查看但不可修改。",
        [
            ("无权操作", "permission_denied", "地市审核人员不能填报县级指标。"),
        ],
    ),
    404: (
        "不存在，或不在您的管辖范围内（两者同样返回 404，不透露范围外的数据）；页码超出范围也返回 404。",
        [
            ("不存在", "not_found", "没有代码为 510199 的区域，或该区域不在您的管辖范围内。"),
        ],
    ),
    409: (
        "与数据的当前状态冲突：本期已由省级确认锁定，或当前审核状态不允许此操作。",
        [
            (
                "已锁定",
                "conflict",
                "四川省2022年上半年数据已由省能源局于2022-07-10 09:30确认锁定，不能修改；如需更正，请联系省级重新开放。",
            ),
        ],
    ),
    412: (
        'If-Match 与当前版本不符（或只有弱标签 W/"…"，写入须强比较）：数据已被他人修改，未作任何修改。'
        "请重新 GET 取得最新数据和 ETag 后再提交。",
        [
            ("版本已变", "precondition_failed", "锦江区的数据已被锦江填报员于10:31:05修改，您看到的不是最新内容。"),
        ],
    ),
    422: (
        "Idempotency-Key 在 24 小时内已用于另一个不同的请求（方法、路径、查询串或请求体不同），未作任何修改。",
        [
            (
                "幂等键重复使用",
                "idempotency_key_reused",
                "这个 Idempotency-Key 已用于另一个不同的请求（24 小时内），未作任何修改：新的写入请换一个新的键。",
            ),
        ],
    ),
    413: (
        "请求体超过大小上限（默认 1 MB），未作任何修改。",
        [
            ("请求体过大", "payload_too_large", "请求体超过上限 1048576 字节，未作任何修改；请分批提交。"),
        ],
    ),
    415: (
        "请求体不是 JSON：Content-Type 须为 application/json。",
        [
            ("不是 JSON", "unsupported_media_type", "不支持请求中的媒体类型 “text/plain”。"),
        ],
    ),
    428: (
        "缺少 If-Match 请求头：写入前须先 GET 取得 ETag。",
        [
            ("缺少 If-Match", "precondition_required", "缺少 If-Match 请求头：请先 GET 取得 ETag，再在 If-Match 中原样带上。"),
        ],
    ),
    429: (
        "请求过于频繁：超过本客户端的速率限制。按响应头 Retry-After 的秒数等待后重试。",
        [
            ("限流", "throttled", "请求过于频繁，已超过本客户端的速率限制。请在 42 秒后重试。"),
        ],
    ),
}


def _example(title, code, message, errors=None):
    return OpenApiExample(title, value={"code": code, "message": message, "errors": errors or {}}, response_only=True)


ERRORS = {
    status: OpenApiResponse(ErrorSerializer, description, [_example(*example) for example in examples])
    for status, (description, examples) in ERROR_DOCS.items()
}

# Errors any operation can answer; 413 and 415 wherever a body is read, 422 wherever an
# Idempotency-Key may be sent.
COMMON_ERRORS = (400, 401, 403, 404, 429)
BODY_ERRORS = (413, 415, 422)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]{1,255}$"},
    OpenApiParameter.HEADER,
    required=False,
    description="可选。每次写入带一个新的键（建议 UUID，1–255 个可打印 ASCII 字符）；超时后用同一个键、同样的请求重试，"
    "24 小时内只执行一次，重试得到第一次的响应（响应头 Idempotent-Replayed: true）。同一个键用于不同的请求返回 422，"
    "第一次仍在处理时返回 409。见 docs/api.md“幂等写入”。",
)


def errors(*statuses):
    """Error responses for ``extend_schema(responses=…)``, beyond the ones every operation has."""
    return {status: ERRORS[status] for status in statuses}


class AutoSchema(openapi.AutoSchema):
    """Adds the common error responses to every operation, so none is left undocumented, and the
    Idempotency-Key header (accounts.api.idempotency) to every write."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        return [*parameters, IDEMPOTENCY_KEY] if self.method in ("POST", "PUT", "PATCH") else parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        statuses = COMMON_ERRORS + (BODY_ERRORS if self.method in ("POST", "PUT", "PATCH") else ())
        for status in statuses:
            responses.setdefault(str(status), self._get_response_for_code(ERRORS[status], str(status), direction=direction))
        return responses


# An example region per level, so the documented examples (and schemathesis' explicit ones) are real.
LEVEL_EXAMPLES = {
    None: ("成都市锦江区", "510104"),
    "county": ("成都市锦江区", "510104"),
    "city": ("成都市", "510100"),
    "province": ("四川省", "510000"),
}
LEVEL_NAMES = {None: "", "county": "县级", "city": "地市级", "province": "省级"}


def region_code(level=None):
    """The ``region_code`` path parameter; ``level`` when the operation takes only that level."""
    name, code = LEVEL_EXAMPLES[level]
    scope = "不在您管辖范围内的区域返回 404" + ("，其他层级的区域也返回 404。" if level else "。")
    return OpenApiParameter(
        "region_code",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        pattern=r"^\d{6}$",
        description=f"{LEVEL_NAMES[level]}行政区划代码（GB/T 2260，6 位数字），如 {code}（{name}）。{scope}",
        examples=[OpenApiExample(name, value=code)],
    )


REGION_CODE = region_code()
PERIOD_CODE = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    pattern=r"^\d{4}(S1)?$",
    description="报告期代码：上半年写作“2022S1”，全年写作“2022”。",
    examples=[OpenApiExample("2022年上半年", value="2022S1")],
)
