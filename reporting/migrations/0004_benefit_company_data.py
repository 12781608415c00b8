from django.db import migrations


def assign(apps, schema_editor):
    # Refuses (raises, naming the rows) where a province has figures at two levels in one half-year.
    from reporting.benefit_migration import benefits_companies_assign

    benefits_companies_assign(
        benefit_model=apps.get_model("reporting", "Benefit"),
        company_model=apps.get_model("accounts", "Company"),
        region_model=apps.get_model("accounts", "Region"),
        user_model=apps.get_model("accounts", "User"),
    )


def unassign(apps, schema_editor):
    Benefit = apps.get_model("reporting", "Benefit")
    Company = apps.get_model("accounts", "Company")
    User = apps.get_model("accounts", "User")
    migrated = Company.objects.filter(code__startswith="migrated-")
    Benefit.objects.filter(company__in=migrated).update(company=None)
    User.objects.filter(company__in=migrated).update(company=None)
    migrated.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0003_benefit_company"),
    ]

    operations = [
        migrations.RunPython(assign, unassign),
    ]
