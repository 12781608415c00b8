from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class RegionModelBackend(ModelBackend):
    """The usual backend, loading the user's region with the user: every request's scoping reads it."""

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("region").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
