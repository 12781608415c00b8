from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The top of the layered house: the home page, demo data and whatever must see several apps."""

    name = "portal"
    verbose_name = "门户"
