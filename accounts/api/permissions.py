from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import ApiToken, TokenAccess


class TokenWriteAccess(BasePermission):
    """A read-only token may only read: every unsafe method is refused, whatever the region."""

    message = "只读令牌只能读取数据，不能修改；如需写入，请联系省级能源主管部门申请读写令牌。"

    def has_permission(self, request, view):
        token = request.auth
        return (
            request.method in SAFE_METHODS
            or not isinstance(token, ApiToken)
            or token.access == TokenAccess.WRITE
        )
