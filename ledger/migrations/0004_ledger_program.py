import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0011_period_program_required"),
        ("ledger", "0003_pressing_channel"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledger",
            name="program",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="ledgers",
                to="indicators.program",
                verbose_name="方案",
            ),
        ),
    ]
