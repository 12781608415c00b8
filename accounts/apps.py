from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与区域"

    def ready(self):
        # Registers the portal's permissions with django-rules (ObjectPermissionBackend answers them).
        from . import policy  # noqa: F401
