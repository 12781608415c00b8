from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0010_programs_from_periods"),
    ]

    operations = [
        migrations.AlterField(
            model_name="period",
            name="program",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="periods", to="indicators.program", verbose_name="方案"
            ),
        ),
        migrations.RemoveConstraint(
            model_name="period",
            name="period_one_per_year_and_kind",
        ),
        migrations.AlterField(
            model_name="period",
            name="code",
            field=models.CharField(max_length=6, verbose_name="报告期"),
        ),
        migrations.AddConstraint(
            model_name="period",
            constraint=models.UniqueConstraint(fields=("program", "year", "kind"), name="period_one_per_program_year_and_kind"),
        ),
    ]
