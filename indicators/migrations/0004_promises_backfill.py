"""Promise rows for the check-marks written before promises were recorded (issue 8 §3).

The work is ``indicators.promises.promises_backfill``, the one the demo seeding calls too. It is
given this migration's historical models, not the current ones, and uses only fields they have, so
it stays correct as the models move on. Undone, the rows are removed (0003 then drops the table).
"""
from django.db import migrations


def backfill(apps, schema_editor):
    from indicators.promises import promises_backfill

    promises_backfill(
        checkmark_model=apps.get_model("indicators", "Checkmark"),
        promise_model=apps.get_model("indicators", "Promise"),
    )


def remove(apps, schema_editor):
    apps.get_model("indicators", "Promise").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("indicators", "0003_promises_signoff_exceptions"),
    ]

    operations = [
        migrations.RunPython(backfill, remove),
    ]
