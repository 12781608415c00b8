import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """The company of each 附件3 figure: added empty, filled by 0004, required by 0005."""

    dependencies = [
        ("accounts", "0005_companies"),
        ("reporting", "0002_report_job_job"),
    ]

    operations = [
        migrations.AddField(
            model_name="benefit",
            name="company",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="benefits",
                to="accounts.company",
                verbose_name="供电企业",
            ),
        ),
    ]
