from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The top of the layered house: the home page, demo data and whatever must see several apps."""

    name = "portal"
    verbose_name = "门户"

    def ready(self):
        # The notices to the people who must act hear every change the lower apps record.
        from . import notices

        notices.connect()
