from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与区域"

    def ready(self):
        # Registers the portal's permissions with django-rules (ObjectPermissionBackend answers them).
        from . import policy  # noqa: F401
        from .sessions import connect_signals

        connect_signals()  # the list of signed-in sessions follows logins and logouts
        from . import audit

        audit.connect()  # logins, logouts, failures, lockouts and admin changes into the security-event chain
        from . import webhooks

        webhooks.connect()  # every recorded change fans out to the webhook endpoints that cover it
