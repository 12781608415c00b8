"""Session limits and the password policy, enforced on every request of a signed-in user."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from . import passwords, sessions

EXPIRED_MESSAGES = {
    "idle": "您已超过 {minutes} 分钟没有操作，为保障账户安全已自动退出，请重新登录。",
    "absolute": "本次登录已超过 {hours} 小时，为保障账户安全已自动退出，请重新登录。",
}


def _is_api(request):
    return request.path.startswith("/api/")


class SessionLimitsMiddleware:
    """Logs out a session past its idle timeout or absolute lifetime; slides the idle timeout."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and hasattr(request, "session"):
            reason = sessions.expiry_reason(request)
            if reason:
                logout(request)
                text = EXPIRED_MESSAGES[reason].format(
                    minutes=int(sessions.idle_timeout() // 60), hours=int(sessions.absolute_lifetime() // 3600)
                )
                if _is_api(request):
                    return JsonResponse({"code": "session_expired", "message": text, "errors": {}}, status=401)
                messages.warning(request, text)
                return redirect_to_login(request.get_full_path())
            sessions.touch(request)
        return self.get_response(request)


class PasswordPolicyMiddleware:
    """A user whose password expired, or was set by an administrator, may only change it (or leave)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reason = passwords.change_reason(request.user)
        if reason and not self._allowed(request.path):
            if _is_api(request):
                return JsonResponse({"code": "password_change_required", "message": reason, "errors": {}}, status=403)
            messages.warning(request, reason)
            return redirect("password_change")
        return self.get_response(request)

    @staticmethod
    def _allowed(path):
        return path in (reverse("password_change"), reverse("logout")) or path.startswith("/" + settings.STATIC_URL.lstrip("/"))
