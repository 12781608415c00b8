"""The signed-in user's own account: change the password, see and end the signed-in sessions."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.contrib.auth.views import PasswordChangeView
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import passwords, sessions
from .models import UserSession


class PortalPasswordChangeForm(PasswordChangeForm):
    """Django's form (old password, new password twice, the validators); saved by the service."""

    def save(self, commit=True):
        return passwords.password_change(user=self.user, new_password=self.cleaned_data["new_password1"])


class PortalPasswordChangeView(PasswordChangeView):
    form_class = PortalPasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["reason"] = passwords.change_reason(self.request.user)
        context["help_texts"] = password_validators_help_texts()
        return context

    def form_valid(self, form):
        old_key = self.request.session.session_key
        form.save()
        # Stay signed in here; every other session ends (it may be whoever knew the old password).
        update_session_auth_hash(self.request, form.user)
        sessions.rekeyed(request=self.request, old_key=old_key)
        sessions.sessions_revoke_others(user=form.user, current_key=self.request.session.session_key)
        messages.success(self.request, "密码已修改。")
        return redirect(self.get_success_url())


@never_cache
@login_required
def sessions_view(request):
    rows = sessions.user_sessions(user=request.user)
    current = sessions.key_hash(request.session.session_key)
    context = {
        "rows": rows,
        "current": current,
        "idle_minutes": int(sessions.idle_timeout() // 60),
        "lifetime_hours": int(sessions.absolute_lifetime() // 3600),
    }
    return render(request, "accounts/sessions.html", context)


@require_POST
@login_required
def session_revoke_view(request, pk):
    if sessions.key_hash(request.session.session_key) == _row_hash(request, pk):
        messages.error(request, "不能在这里退出当前会话，请使用页面顶部的“退出”。")
    elif sessions.session_revoke(user=request.user, pk=pk):
        messages.success(request, "已退出该会话。")
    else:
        raise Http404("没有这个会话。")
    return redirect("account_sessions")


def _row_hash(request, pk):
    return UserSession.objects.filter(user=request.user, pk=pk).values_list("session_key_hash", flat=True).first()


@require_POST
@login_required
def sessions_revoke_others_view(request):
    count = sessions.sessions_revoke_others(user=request.user, current_key=request.session.session_key)
    messages.success(request, f"已退出其他 {count} 个会话。" if count else "没有其他会话。")
    return redirect("account_sessions")
