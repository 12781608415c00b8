from django.apps import AppConfig


def _attach_measured_by(sender, *, user, region, indicators, **kwargs):
    from .selectors import attach_measured_by

    attach_measured_by(user=user, region=region, indicators=indicators)


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "任务台账"

    def ready(self):
        # The county sheet (indicators) links each indicator to the ledger items it measures; the
        # ledger supplies them, since indicators sits below it and may not import it.
        from indicators.signals import sheet_indicators_shown

        sheet_indicators_shown.connect(_attach_measured_by, dispatch_uid="ledger.attach_measured_by")
