"""Every period opened before programs existed belongs to the program of its indicator set
(issue 13): one program per set the periods use, coded as the set, with the set's name, document
and region; the national set's program compiles 附件2 and 附件3, any other set its own completion
table. ``load_reference`` later fills in the programs as programs.csv describes them.

Only fields these historical models have are used, so the function stays correct as the models
move on; the tests call it with the current models.
"""

from django.db import migrations

NATIONAL = "national-2021"


def programs_from_periods(apps, schema_editor):
    Period = apps.get_model("indicators", "Period")
    Program = apps.get_model("indicators", "Program")
    IndicatorSet = apps.get_model("indicators", "IndicatorSet")
    used = Period.objects.values_list("indicator_set", flat=True).distinct().order_by()
    for order, indicator_set in enumerate(IndicatorSet.objects.filter(pk__in=used).order_by("year", "code")):
        national = indicator_set.code == NATIONAL
        program, created = Program.objects.get_or_create(
            code=indicator_set.code,
            defaults={
                "name": indicator_set.name,
                "document": indicator_set.document,
                "indicator_set": indicator_set,
                "tables": ["attachment2", "attachment3"] if national else ["completion"],
                "order": 0 if national else 10 * (order + 1),
            },
        )
        if created and indicator_set.region_id:
            program.regions.set([indicator_set.region_id])
        Period.objects.filter(indicator_set=indicator_set).update(program=program)


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0009_programs"),
    ]

    operations = [
        # Undone: the field it fills is dropped by undoing 0009, so nothing to do.
        migrations.RunPython(programs_from_periods, migrations.RunPython.noop),
    ]
