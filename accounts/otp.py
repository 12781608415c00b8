"""Two-factor login (等保2.0 8.1.4.1 d): TOTP through django-otp, with one-time recovery codes.

Who must use it is a policy question (``accounts.policy.second_factor_required``). After the
password, ``SecondFactorMiddleware`` sends a user who has a confirmed authenticator, or who must
have one, to the verify or the enrolment page until the session is verified; only those pages,
logout and static files answer meanwhile. API tokens are their own factor and pass untouched.

The services below are the only writers of devices: keyword-only, atomic, the device row locked
while a code is checked (django-otp's TOTP device refuses a time step at or before ``last_t``, so a
code verified once is refused again), failures throttled by django-otp (exponential back-off per
device) and recorded as security events.
"""

import logging
import re
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import security_event_record
from .models import SecurityEventKind
from .policy import second_factor_required

logger = logging.getLogger("accounts.otp")

RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "身份验证器"
RECOVERY_NAME = "恢复码"
TOTP_RE = re.compile(r"^\d{6}$")
RECOVERY_RE = re.compile(r"^[a-z2-7]{8}$")  # StaticToken.random_token(): 5 random bytes in base32

CODE_WRONG = "验证码不正确，请输入身份验证器上当前显示的 6 位数字（或一个未用过的恢复码）。"
CODE_REPLAYED = "该验证码已经用过，每个验证码只能使用一次，请等待身份验证器显示下一个验证码。"
CODE_FORMAT = "验证码应为 6 位数字，恢复码应为 8 位字母和数字。"
CODE_MISSING = "请填写验证码。"


def _refusal(message, reason):
    """A refusal on the form's code field; ``reason`` (throttled, wrong, replayed…) for the view and the audit."""
    return ValidationError({"code": ValidationError(message, code=reason)})


def refusal_reason(error):
    return next((e.code for errors in getattr(error, "error_dict", {}).values() for e in errors), None)


def _throttled_message(data):
    locked_until = (data or {}).get("locked_until")
    seconds = max(1, int((locked_until - timezone.now()).total_seconds()) + 1) if locked_until else 1
    return f"验证码错误次数过多，请在 {seconds} 秒后再试。"


# --- security events ---------------------------------------------------------------------------


def _record(kind, *, user, request=None, detail=""):
    """Into the log and into the hash-chained security-event log (accounts.audit)."""
    logger.warning("%s user=%s detail=%s", kind, getattr(user, "pk", None), detail)
    security_event_record(kind=kind, user=user, request=request, detail=detail)


# --- reading -----------------------------------------------------------------------------------


def confirmed_device(user):
    """The user's confirmed TOTP authenticator, or None."""
    if not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def _has_authenticator(user):
    """Whether ``user`` has a confirmed authenticator: read with the user by accounts.backends
    when the session loaded it, else asked."""
    known = getattr(user, "has_authenticator", None)
    return known if known is not None else confirmed_device(user) is not None


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def normalise_code(raw):
    """What people type: spaces and dashes dropped, letters lower-cased."""
    return re.sub(r"[\s\-]", "", raw or "").lower()


def _replayed(device, code):
    """Whether ``code`` is a right code of a time step already used (refused for ``last_t``)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return device.last_t >= 0 and totp.verify(int(code), device.tolerance, 0) and totp.t() <= device.last_t


def _check_totp(device, code):
    """Checks ``code`` against ``device`` (locked by the caller): None if right, else the refusal.

    Returned, not raised, so the caller's transaction commits django-otp's failure count.
    """
    allowed, data = device.verify_is_allowed()
    if not allowed:
        return _refusal(_throttled_message(data), "throttled")
    if not code:
        return _refusal(CODE_MISSING, "missing")
    if not TOTP_RE.match(code):
        device.throttle_increment(commit=True)
        return _refusal(CODE_FORMAT, "format")
    replay = _replayed(device, code)
    if device.verify_token(code):  # django-otp: on a miss it counts the failure (throttling) itself
        return None
    return _refusal(CODE_REPLAYED if replay else CODE_WRONG, "replayed" if replay else "wrong")


def _use_recovery_code(user, code):
    static = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
    if static is None:
        return None, _refusal(CODE_WRONG, "wrong")
    allowed, data = static.verify_is_allowed()
    if not allowed:
        return None, _refusal(_throttled_message(data), "throttled")
    if not static.verify_token(code):  # deletes the token it matched; counts a miss
        return None, _refusal("恢复码不正确或已经用过，每个恢复码只能使用一次。", "wrong_recovery")
    return static, None


def _refuse(error, *, user, request, what):
    _record(SecurityEventKind.OTP_FAILED, user=user, request=request, detail=f"{what}: {refusal_reason(error)}")
    raise error


def _locked_device(user, confirmed=True):
    return TOTPDevice.objects.select_for_update().filter(user=user, confirmed=confirmed).order_by("pk").first()


NO_DEVICE = "您尚未绑定身份验证器。"


# --- services ----------------------------------------------------------------------------------


def otp_verify(*, user, code, request=None):
    """The second step of a login: a 6-digit TOTP code or one recovery code (each usable once).

    Returns the device that accepted it; otherwise raises ValidationError({"code": ...}) having
    changed nothing but django-otp's failure count.
    """
    code = normalise_code(code)
    with transaction.atomic():
        device = _locked_device(user)
        if device is None:
            error = _refusal(NO_DEVICE, "no_device")
        elif RECOVERY_RE.match(code):
            device, error = _use_recovery_code(user, code)
        else:
            error = _check_totp(device, code)
    if error is not None:
        _refuse(error, user=user, request=request, what="verify")
    if isinstance(device, StaticDevice):
        _record(SecurityEventKind.OTP_RECOVERY_USED, user=user, request=request, detail=f"剩余 {recovery_codes_left(user)} 个")
    return device


def otp_device_start(*, user):
    """The authenticator being enrolled: the one not confirmed yet, else a new one (its key random)."""
    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError("您已绑定身份验证器；如需更换，请先停用当前的身份验证器。", code="enrolled")
        device = _locked_device(user, confirmed=False)
        if device is None:
            device = TOTPDevice(user=user, name=DEVICE_NAME, confirmed=False)
            device.full_clean()
            device.save()
        return device


def otp_device_confirm(*, user, code, request=None):
    """Enrolment's last step: the first code from the authenticator confirms it.

    Returns ``(device, recovery_codes)``: the codes are shown once; django-otp keeps them only to
    match them, and deletes one when it is used.
    """
    code = normalise_code(code)
    codes = None
    with transaction.atomic():
        device = _locked_device(user, confirmed=False)
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            error = _refusal("您已绑定身份验证器。", "enrolled")
        elif device is None:
            error = _refusal("绑定已过期，请重新打开绑定页面。", "no_device")
        else:
            error = _check_totp(device, code)
        if error is None:
            device.confirmed = True
            device.full_clean()
            device.save()
            codes = _recovery_codes_replace(user)
    if error is not None:
        _refuse(error, user=user, request=request, what="setup")
    _record(SecurityEventKind.OTP_ENROLLED, user=user, request=request)
    return device, codes


def _recovery_codes_replace(user):
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice(user=user, name=RECOVERY_NAME, confirmed=True)
    static.full_clean()
    static.save()
    codes = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(StaticToken.random_token())
    codes = sorted(codes)
    StaticToken.objects.bulk_create([StaticToken(device=static, token=token) for token in codes])
    return codes


def otp_recovery_codes_renew(*, user, code, request=None):
    """Ten new recovery codes for the old ones, on a current TOTP code."""
    code = normalise_code(code)
    codes = None
    with transaction.atomic():
        device = _locked_device(user)
        error = _refusal(NO_DEVICE, "no_device") if device is None else _check_totp(device, code)
        if error is None:
            codes = _recovery_codes_replace(user)
    if error is not None:
        _refuse(error, user=user, request=request, what="renew")
    _record(SecurityEventKind.OTP_CODES_RENEWED, user=user, request=request)
    return codes


def otp_device_remove(*, user, code, request=None):
    """Stops using the authenticator (and its recovery codes), on a current TOTP code."""
    code = normalise_code(code)
    with transaction.atomic():
        device = _locked_device(user)
        error = _refusal(NO_DEVICE, "no_device") if device is None else _check_totp(device, code)
        if error is None:
            TOTPDevice.objects.filter(user=user).delete()
            StaticDevice.objects.filter(user=user).delete()
    if error is not None:
        _refuse(error, user=user, request=request, what="remove")
    _record(SecurityEventKind.OTP_REMOVED, user=user, request=request)


# --- the middleware ----------------------------------------------------------------------------

VERIFY_URL_NAME = "otp_verify"
SETUP_URL_NAME = "otp_setup"
# The REST API answers in its own JSON error shape; /api/tokens/ and /api/docs/ are portal pages.
API_PREFIXES = ("/api/v1/", "/api/schema/")


def _exempt_paths():
    return (
        reverse(VERIFY_URL_NAME),
        reverse(SETUP_URL_NAME),
        reverse("logout"),
        reverse("login"),
        "/" + settings.STATIC_URL.lstrip("/"),
    )


def must_enrol(user):
    return bool(getattr(settings, "OTP_REQUIRED", True)) and second_factor_required(user)


class SecondFactorMiddleware:
    """A signed-in user whose session is not verified reaches only the verify or enrolment page.

    After django_otp's OTPMiddleware (it sets ``request.user.is_verified()``). Verify when the user
    has a confirmed authenticator (whoever they are), enrol when policy requires one (OTP_REQUIRED).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(_exempt_paths()):
            return self.get_response(request)
        # An API client's token authenticates inside the view; the session, if any, is not asked.
        if request.path.startswith(API_PREFIXES) and request.headers.get("Authorization", "").lower().startswith("token "):
            return self.get_response(request)
        if user.is_verified():
            return self.get_response(request)
        if _has_authenticator(user):
            target = VERIFY_URL_NAME
        elif must_enrol(user):
            target = SETUP_URL_NAME
        else:
            return self.get_response(request)
        if request.path.startswith(API_PREFIXES):
            return JsonResponse(
                {"code": "second_factor_required", "message": "请先在门户完成双因素认证（动态验证码）后再使用接口。", "errors": {}},
                status=403,
                json_dumps_params={"ensure_ascii": False},
            )
        url = reverse(target)
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)
