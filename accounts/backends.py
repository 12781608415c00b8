from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice


class RegionModelBackend(ModelBackend):
    """Authentication only: the usual backend, loading the user's region with the user (every
    request's scoping reads it). It answers no permission — not from groups, not from user
    permissions — so accounts.policy (rules.permissions.ObjectPermissionBackend) is the one source
    of what a non-superuser may do."""

    def get_user(self, user_id):
        # Whether the user has an authenticator to verify with: asked on every request by
        # accounts.otp.SecondFactorMiddleware, so read here in the same query.
        authenticator = Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
        users = get_user_model()._default_manager.select_related("region").annotate(has_authenticator=authenticator)
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        return set()

    def has_perm(self, user_obj, perm, obj=None):
        return False

    def has_module_perms(self, user_obj, app_label):
        return False

    def with_perm(self, perm, is_active=True, include_superusers=True, obj=None):
        return get_user_model()._default_manager.none()
