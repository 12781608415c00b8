import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_companies"),
        ("reporting", "0004_benefit_company_data"),
    ]

    operations = [
        migrations.AlterField(
            model_name="benefit",
            name="company",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="benefits",
                to="accounts.company",
                verbose_name="供电企业",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="benefit",
            name="benefit_unique",
        ),
        migrations.AddConstraint(
            model_name="benefit",
            constraint=models.UniqueConstraint(fields=("company", "region", "year", "half", "category"), name="benefit_unique_per_company"),
        ),
    ]
