"""The user's notifications: list them, mark one or all read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from .models import Notification
from .notifications import notification_mark_read, notifications_for, notifications_mark_all_read, unread_count

PAGE_SIZE = 50


def _safe_next(request, target):
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return None


@login_required
@require_http_methods(["GET", "POST"])
def notifications_view(request):
    """GET: the list, newest first. POST ``pk`` (optionally ``next``): mark one read; POST ``all``: mark all read."""
    if request.method == "POST":
        if request.POST.get("all"):
            count = notifications_mark_all_read(user=request.user)
            messages.success(request, f"已将 {count} 条通知标记为已读。" if count else "没有未读通知。")
            return redirect(reverse("notifications"))
        try:
            notification = notification_mark_read(user=request.user, pk=int(request.POST.get("pk", "")))
        except (ValueError, Notification.DoesNotExist):
            raise Http404("没有这条通知。") from None
        target = _safe_next(request, request.POST.get("next", ""))
        if target:
            return redirect(target)
        messages.success(request, f"已标记为已读：{notification.title}")
        page = request.POST.get("page", "")
        return redirect(reverse("notifications") + (f"?page={int(page)}" if page.isdigit() else ""))
    page = Paginator(notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"page": page, "unread": unread_count(request.user)})
