"""Webhook endpoints (accounts.webhooks): a province's (or the national) administrator registers
them, sees each secret once, reads each endpoint's delivery log and replays failures."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .changes import EVENT_TYPES
from .models import DeliveryState, WebhookDelivery
from .webhooks import (
    deliveries_for,
    deliveries_replay_failed,
    delivery_replay,
    endpoints_for,
    webhook_endpoint_create,
    webhook_endpoint_disable,
)

DELIVERIES_PER_PAGE = 50


class WebhookEndpointForm(forms.Form):
    name = forms.CharField(label="名称（接收方）", max_length=100)
    # A plain text field: the service checks the address (scheme, host, where it resolves) and names the problem.
    url = forms.CharField(label="回调地址", max_length=500, widget=forms.URLInput(attrs={"placeholder": "https://"}))
    event_types = forms.MultipleChoiceField(
        label="事件类型",
        choices=list(EVENT_TYPES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="不选表示全部",
    )


def _require_webhook_admin(user):
    if not user.has_perm("accounts.manage_webhooks"):
        raise PermissionDenied("只有省级能源主管部门和国家能源局的管理员可以管理回调地址。")


def _endpoint(request, pk):
    return get_object_or_404(endpoints_for(request.user), pk=pk)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def webhooks_view(request):
    """GET: the endpoints in scope and the form. POST: register one and show its secret, once."""
    user = request.user
    _require_webhook_admin(user)
    form = WebhookEndpointForm(request.POST or None)
    created, secret, status = None, None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created, secret = webhook_endpoint_create(user=user, **form.cleaned_data)
                form = WebhookEndpointForm()
            except ValidationError as exc:
                for field, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
                    form.add_error(field if field in form.fields else None, errors)
        if secret is None:
            status = 400
    endpoints = list(endpoints_for(user))
    for endpoint in endpoints:
        endpoint.type_labels = [EVENT_TYPES.get(t, t) for t in endpoint.event_types]
    return render(
        request,
        "accounts/webhooks.html",
        {"form": form, "endpoints": endpoints, "created": created, "secret": secret},
        status=status,
    )


@login_required
@require_POST
def webhook_disable_view(request, pk):
    _require_webhook_admin(request.user)
    endpoint = _endpoint(request, pk)
    try:
        webhook_endpoint_disable(user=request.user, endpoint=endpoint)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"已停用回调地址“{endpoint.name}”，不会再向它发送任何事件。")
    return redirect("webhooks")


@never_cache
@login_required
@require_GET
def webhook_deliveries_view(request, pk):
    """An endpoint's delivery log, newest first; ?state=failed shows the failures only."""
    _require_webhook_admin(request.user)
    endpoint = _endpoint(request, pk)
    deliveries = deliveries_for(request.user, endpoint)
    state = request.GET.get("state", "")
    if state in DeliveryState.values:
        deliveries = deliveries.filter(state=state)
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    for delivery in page:
        delivery.type_label = EVENT_TYPES.get(delivery.event.type, delivery.event.type)
    failed = endpoint.deliveries.filter(state=DeliveryState.FAILED).count()
    return render(
        request,
        "accounts/webhooks_deliveries.html",
        {"endpoint": endpoint, "page": page, "state": state, "states": DeliveryState.choices, "failed": failed},
    )


@login_required
@require_POST
def webhook_delivery_replay_view(request, pk):
    _require_webhook_admin(request.user)
    delivery = get_object_or_404(WebhookDelivery.objects.restrict(request.user).select_related("endpoint", "event"), pk=pk)
    try:
        delivery_replay(user=request.user, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"已重新发送事件 {delivery.event.public_id}，结果见下表。")
    return redirect("webhook_deliveries", pk=delivery.endpoint_id)


@login_required
@require_POST
def webhook_replay_failed_view(request, pk):
    _require_webhook_admin(request.user)
    endpoint = _endpoint(request, pk)
    try:
        count = deliveries_replay_failed(user=request.user, endpoint=endpoint)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"已重新发送 {count} 条失败的投递，结果见下表。" if count else "没有失败的投递需要重发。")
    return redirect("webhook_deliveries", pk=endpoint.pk)
