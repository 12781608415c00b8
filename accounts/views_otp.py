"""Two-factor pages: the code after the password, enrolment (QR code and secret, then ten recovery
codes shown once), and the user's own page to renew the codes or stop using the authenticator.

Views parse, call accounts.otp's services and render; a refused code is a 400 (429 while
django-otp's back-off lasts) with the reason in Chinese.
"""

from base64 import b32encode
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from . import otp


class CodeForm(forms.Form):
    code = forms.CharField(label="验证码", max_length=32, strip=True)


def _next_url(request):
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return reverse("home")


def _refused(form, exc):
    """The service's reasons on the code field; 429 while django-otp's back-off lasts."""
    for message in exc.messages:
        form.add_error("code", message)
    return 429 if otp.refusal_reason(exc) == "throttled" else 400


def _with_next(name, next_url):
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _verified_login(request, device):
    # A new session key once the second factor is given, as after the password.
    request.session.cycle_key()
    django_otp.login(request, device)


def qr_svg(data):
    """The QR code of ``data`` as inline SVG (no external service, no script)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    svg = image.to_string(encoding="unicode")
    return mark_safe(svg.replace("<svg ", '<svg class="otp-qr" role="img" aria-label="绑定二维码" ', 1))  # noqa: S308 - our own SVG


def _grouped(secret):
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_verify_view(request):
    """After the password: the 6-digit code (or a recovery code)."""
    user = request.user
    next_url = _next_url(request)
    if user.is_verified():
        return redirect(next_url)
    if otp.confirmed_device(user) is None:
        return redirect(_with_next("otp_setup", next_url) if otp.must_enrol(user) else next_url)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device = otp.otp_verify(user=user, code=form.cleaned_data["code"], request=request)
        except ValidationError as exc:
            status = _refused(form, exc)
        else:
            _verified_login(request, device)
            if isinstance(device, StaticDevice):
                left = otp.recovery_codes_left(user)
                messages.warning(request, f"您使用了一个恢复码，还剩 {left} 个。手机丢失时请尽快在“双因素认证”页面停用并重新绑定。")
            return redirect(next_url)
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/otp_verify.html", {"form": form, "next": next_url}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_setup_view(request):
    """Enrolment: scan the QR code (or type the secret), confirm with a first code, keep the recovery codes."""
    user = request.user
    next_url = _next_url(request)
    if otp.confirmed_device(user) is not None:
        return redirect("otp_manage" if user.is_verified() else _with_next("otp_verify", next_url))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device, codes = otp.otp_device_confirm(user=user, code=form.cleaned_data["code"], request=request)
            except ValidationError as exc:
                status = _refused(form, exc)
            else:
                _verified_login(request, device)
                return render(request, "accounts/otp_codes.html", {"codes": codes, "next": next_url, "enrolled": True})
        else:
            status = 400
    device = otp.otp_device_start(user=user)
    context = {
        "form": form,
        "next": next_url,
        "qr": qr_svg(device.config_url),
        "secret": _grouped(b32encode(device.bin_key).decode()),
        "required": otp.must_enrol(user),
    }
    return render(request, "accounts/otp_setup.html", context, status=status)


@never_cache
@login_required
def otp_manage_view(request):
    """The user's own page: enrol, or renew the recovery codes / stop using the authenticator."""
    user = request.user
    device = otp.confirmed_device(user)
    context = {
        "device": device,
        "codes_left": otp.recovery_codes_left(user) if device else 0,
        "required": otp.must_enrol(user),
        "form": CodeForm(),
    }
    return render(request, "accounts/otp_manage.html", context)


@never_cache
@login_required
@require_POST
def otp_remove_view(request):
    user = request.user
    form = CodeForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            otp.otp_device_remove(user=user, code=form.cleaned_data["code"], request=request)
        except ValidationError as exc:
            status = _refused(form, exc)
        else:
            messages.success(request, "已停用身份验证器，恢复码同时作废。")
            return redirect("otp_manage")
    context = {"device": otp.confirmed_device(user), "codes_left": otp.recovery_codes_left(user), "required": otp.must_enrol(user)}
    return render(request, "accounts/otp_manage.html", {**context, "form": form, "failed": "remove"}, status=status)


@never_cache
@login_required
@require_POST
def otp_recovery_codes_view(request):
    user = request.user
    form = CodeForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            codes = otp.otp_recovery_codes_renew(user=user, code=form.cleaned_data["code"], request=request)
        except ValidationError as exc:
            status = _refused(form, exc)
        else:
            # The session may have been verified by a recovery code, whose device was just replaced.
            _verified_login(request, otp.confirmed_device(user))
            return render(request, "accounts/otp_codes.html", {"codes": codes, "next": reverse("otp_manage"), "enrolled": False})
    context = {"device": otp.confirmed_device(user), "codes_left": otp.recovery_codes_left(user), "required": otp.must_enrol(user)}
    return render(request, "accounts/otp_manage.html", {**context, "form": form, "failed": "renew"}, status=status)
