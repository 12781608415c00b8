from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import ApiToken, TokenAccess


class TokenWriteAccess(BasePermission):
    """A read-only token may only read: every unsafe method is refused, whatever the region."""

    message = "只读令牌只能读取数据，不能修改；如需写入，请联系省级能源主管部门申请读写令牌。"

    def has_permission(self, request, view):
        token = request.auth
        return request.method in SAFE_METHODS or not isinstance(token, ApiToken) or token.access == TokenAccess.WRITE


class HasPerm(BasePermission):
    """The policy's answer (accounts.policy) to the API: the same ``has_perm`` the pages ask.

    ``HasPerm.of("reporting.read_reports", message)`` asks the permission in general for every
    request, and about the object for a detail (``get_object``).
    """

    perm = None

    def has_permission(self, request, view):
        return request.user.has_perm(self.perm)

    def has_object_permission(self, request, view, obj):
        return request.user.has_perm(self.perm, obj)

    @classmethod
    def of(cls, perm, message=None):
        return type(f"HasPerm_{perm.replace('.', '_')}", (cls,), {"perm": perm, "message": message or cls.message})
