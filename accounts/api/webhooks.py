"""/api/v1/webhooks/: webhook endpoints, their delivery logs and replays (accounts.webhooks).

The same services as the portal's page: a province administrator's write token (or the national
administrator) registers endpoints for its region; county and city users and read tokens are refused.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.changes import EVENT_TYPES
from accounts.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from accounts.webhooks import (
    deliveries_for,
    deliveries_replay_failed,
    delivery_replay,
    endpoints_for,
    webhook_endpoint_create,
    webhook_endpoint_disable,
)

from .permissions import HasPerm, TokenWriteAccess

TAG = "回调"
ManagesWebhooks = HasPerm.of("accounts.manage_webhooks", "只有省级能源主管部门和国家能源局的管理员（或其省级读写令牌）可以管理回调地址。")
TYPES = "、".join(f"{key}（{label}）" for key, label in EVENT_TYPES.items())


class WebhookEndpointSerializer(serializers.ModelSerializer):
    url = serializers.CharField(
        max_length=500,
        help_text="接收地址，只能是 http:// 或 https://；不能指向本机、内网、链路本地、保留或组播地址（登记时和每次发送前都会解析检查）。"
        "不跟随重定向。",
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES), error_messages={"invalid_choice": "未知的事件类型“{input}”。"}),
        required=False,
        default=list,
        max_length=len(EVENT_TYPES),
        help_text=f"要接收的事件类型，空列表表示全部：{TYPES}。",
    )
    region = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="范围：登记人所在区域（其下级的事件也会发送）；全国为 null。"
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "event_types", "region", "active", "created_at", "disabled_at"]
        read_only_fields = ["id", "region", "active", "created_at", "disabled_at"]
        extra_kwargs = {
            "id": {"help_text": "回调地址的 id。"},
            "name": {"help_text": "名称（接收方），便于在投递记录中辨认。"},
            "active": {"help_text": "是否启用；停用后不再发送。"},
            "created_at": {"help_text": "登记时间。"},
            "disabled_at": {"help_text": "停用时间；启用中为 null。"},
        }


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="签名密钥：只在登记时返回这一次，请妥善保存；接收方用它验证 X-Portal-Signature。"
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event = serializers.CharField(
        source="event.public_id", read_only=True, help_text="事件标识（即请求头 X-Portal-Delivery 与事件的 id，用于去重）。"
    )
    type = serializers.CharField(source="event.type", read_only=True, help_text="事件类型。")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "type",
            "state",
            "attempts",
            "last_attempt_at",
            "next_attempt_at",
            "response_code",
            "duration_ms",
            "error",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "投递记录的 id（重发一条时用）。"},
            "attempts": {"help_text": "已尝试发送的次数（含重试和重发）。"},
            "last_attempt_at": {"help_text": "最近一次尝试的时间；尚未发送为 null。"},
            "created_at": {"help_text": "投递记录创建时间（即事件发生时）。"},
            "state": {
                "help_text": "pending 待发送，delivered 已送达（2xx），retrying 重试中，failed 失败（24 小时内未送达或地址已停用）。"
            },
            "next_attempt_at": {"help_text": "下次尝试时间；已送达或失败时为 null。"},
            "response_code": {"help_text": "最近一次的 HTTP 响应码；连接失败或超时为 null。"},
            "duration_ms": {"help_text": "最近一次的耗时（毫秒）。"},
            "error": {"help_text": "最近一次失败的原因（超时、连接失败、非 2xx 响应的开头部分）。"},
        }


class DeliveryQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=DeliveryState.values,
        required=False,
        help_text="只列出该状态的投递：pending、delivered、retrying、failed。",
        error_messages={"invalid_choice": "状态“{input}”无效：应为 pending、delivered、retrying 或 failed。"},
    )


class ReplayedSerializer(serializers.Serializer):
    replayed = serializers.IntegerField(help_text="重新排队发送的投递条数。")


ENDPOINT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="回调地址的 id。")
DELIVERY_ID = OpenApiParameter("delivery_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="投递记录的 id。")


@extend_schema_view(
    list=extend_schema(summary="回调地址列表", description="您管辖范围内登记的回调地址（含已停用的），新登记的在前。"),
    create=extend_schema(
        summary="登记回调地址",
        description="登记后，范围内每项变更（与“变更订阅”同样的事件）都以 JSON POST 到该地址，带签名请求头 X-Portal-Signature；"
        "响应中的 secret 只返回这一次。",
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
    ),
    retrieve=extend_schema(summary="回调地址详情", parameters=[ENDPOINT_ID]),
    disable=extend_schema(
        summary="停用回调地址",
        description="立即停止发送：未发送和重试中的投递记为失败。已停用的地址不能重新启用，请重新登记。",
        request=None,
        parameters=[ENDPOINT_ID],
        responses={200: WebhookEndpointSerializer},
    ),
    deliveries=extend_schema(
        summary="投递记录",
        description="该地址的投递记录，新的在前：状态、尝试次数、响应码、耗时和错误。",
        parameters=[ENDPOINT_ID, DeliveryQuerySerializer],
        responses={200: WebhookDeliverySerializer(many=True)},
    ),
    replay_failed=extend_schema(
        summary="重发全部失败的投递",
        description="把该地址所有失败的投递重新排队，立即发送。事件序号不变，接收方可按 X-Portal-Delivery 去重。",
        request=None,
        parameters=[ENDPOINT_ID],
        responses={202: ReplayedSerializer},
    ),
    replay=extend_schema(
        summary="重发一条投递",
        description="无论状态如何，立即再发送一次（已超过 24 小时重试期的只再试一次）。",
        request=None,
        parameters=[ENDPOINT_ID, DELIVERY_ID],
        responses={202: WebhookDeliverySerializer},
    ),
)
@extend_schema(tags=[TAG])
class WebhookEndpointViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = WebhookEndpointSerializer
    permission_classes = [IsAuthenticated, TokenWriteAccess, ManagesWebhooks]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return endpoints_for(self.request.user)

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = webhook_endpoint_create(user=request.user, **serializer.validated_data)
        endpoint.secret = secret
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        endpoint = webhook_endpoint_disable(user=request.user, endpoint=self.get_object())
        return Response(WebhookEndpointSerializer(endpoint).data)

    @action(detail=True, methods=["get"], serializer_class=WebhookDeliverySerializer)
    def deliveries(self, request, pk=None):
        query = DeliveryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        deliveries = deliveries_for(request.user, self.get_object())
        if "state" in query.validated_data:
            deliveries = deliveries.filter(state=query.validated_data["state"])
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @action(detail=True, methods=["post"], url_path="replay-failed")
    def replay_failed(self, request, pk=None):
        count = deliveries_replay_failed(user=request.user, endpoint=self.get_object())
        return Response({"replayed": count}, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>\d+)/replay")
    def replay(self, request, pk=None, delivery_id=None):
        endpoint = self.get_object()
        delivery = deliveries_for(request.user, endpoint).filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound(f"该回调地址没有 id 为 {delivery_id} 的投递记录。")
        delivery_replay(user=request.user, delivery=delivery)
        delivery.refresh_from_db()
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
