"""``Authorization: Token <secret>``: a 政务平台 client authenticates as its token's service user."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiToken
from accounts.services import api_token_digest

# last_used_at is written at most this often per token, so reads do not each cost a write.
TOUCH_EVERY = timedelta(minutes=1)


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization 请求头应写作“Token <密钥>”，密钥中不含空格。")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("令牌无效。") from None
        token = ApiToken.objects.select_related("user", "user__region", "region").filter(key_hash=api_token_digest(secret)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("令牌无效。")
        if token.revoked_at is not None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(f"令牌“{token.name}”已被吊销。")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 when credentials are missing.
        return self.keyword


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "客户端令牌：请求头写作 `Authorization: Token <密钥>`。令牌由省级能源主管部门在门户“接口令牌”页面创建，"
                "只在创建时显示一次；每个令牌限定一个区域（及其下级），分只读与读写两种。"
            ),
        }


class PortalSessionScheme(SessionScheme):
    """The portal's login session, described in Chinese (replaces drf-spectacular's own)."""

    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            **super().get_security_definition(auto_schema),
            "description": "门户登录会话（浏览器中使用本页“Try it out”时）。写请求须带 X-CSRFToken 请求头。",
        }
