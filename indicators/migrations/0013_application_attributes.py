"""Application records carry attributes instead of one customer type, and rules are predicates over
them, per program (issue 14 §1). Old records and rules are mapped: each old type to the attributes it
stands for, as an old-layout file is read (docs/applications.md)."""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

# Frozen copies of the mapping at the time of this migration (applications.layout.LEGACY_TYPES and
# the predicates of fixtures/reference/application_rules.csv); the code may change later.
TYPE_ATTRIBUTES = {
    "residential": dict(customer_class="residential"),
    "low_voltage_three_zero": dict(customer_class="low_voltage", three_zero=True),
    "low_voltage_other": dict(customer_class="low_voltage"),
    "high_voltage_single": dict(customer_class="high_voltage"),
    "high_voltage_dual": dict(customer_class="high_voltage", dual_source=True),
    "small_business_urban": dict(customer_class="low_voltage", small_micro=True, area="urban", capacity_kw=Decimal(160)),
    "small_business_rural": dict(customer_class="low_voltage", small_micro=True, area="rural", capacity_kw=Decimal(100)),
}
TYPE_PREDICATES = {
    "residential": "class=residential",
    "low_voltage_three_zero": "class=low_voltage;three_zero=yes",
    "low_voltage_other": "class=low_voltage;three_zero=no",
    "high_voltage_single": "class=high_voltage;dual_source=no",
    "high_voltage_dual": "class=high_voltage;dual_source=yes",
    "small_business_urban": "small_micro=yes;area=urban;capacity_kw<=160",
    "small_business_rural": "small_micro=yes;area=rural;capacity_kw<=100",
}


def types_to_attributes(apps, schema_editor):
    Application = apps.get_model("indicators", "Application")
    for old, attributes in TYPE_ATTRIBUTES.items():
        Application.objects.filter(customer_type=old).update(**attributes)


def attributes_to_types(apps, schema_editor):
    """Back to one type: the most specific type whose attributes a record has (general ones first,
    each later update overriding)."""
    Application = apps.get_model("indicators", "Application")
    general_first = ("residential", "low_voltage_other", "low_voltage_three_zero", "high_voltage_single", "high_voltage_dual")
    for old in (*general_first, "small_business_urban", "small_business_rural"):
        attributes = {k: v for k, v in TYPE_ATTRIBUTES[old].items() if k != "capacity_kw"}
        Application.objects.filter(**attributes).update(customer_type=old)


def predicates_to_types(apps, schema_editor):
    """Back to one type per rule; a rule no old type expresses (a target, a new predicate) is dropped."""
    ApplicationRule = apps.get_model("indicators", "ApplicationRule")
    types = {predicate: old for old, predicate in TYPE_PREDICATES.items()}
    for rule in ApplicationRule.objects.all():
        if rule.indicator_id is None or rule.applies_to not in types:
            rule.delete()
        else:
            ApplicationRule.objects.filter(pk=rule.pk).update(customer_type=types[rule.applies_to])


def rules_to_predicates(apps, schema_editor):
    """Each rule goes to the program its indicator's set runs under; a rule of a set no program
    runs is dropped (load_reference loads the rules anew from the fixture)."""
    ApplicationRule = apps.get_model("indicators", "ApplicationRule")
    Program = apps.get_model("indicators", "Program")
    programs = {}
    for program in Program.objects.exclude(indicator_set=None).order_by("order", "code"):
        programs.setdefault(program.indicator_set_id, program)
    for rule in ApplicationRule.objects.select_related("indicator"):
        program = programs.get(rule.indicator.indicator_set_id)
        if program is None:
            rule.delete()
            continue
        rule.program = program
        rule.applies_to = TYPE_PREDICATES[rule.customer_type]
        rule.save(update_fields=["program", "applies_to"])


def _with_default(model_name):
    return migrations.AlterField(
        model_name=model_name,
        name="customer_type",
        field=models.CharField(choices=[(t, t) for t in TYPE_ATTRIBUTES], default="residential", max_length=24, verbose_name="用户类型"),
    )


class Migration(migrations.Migration):
    # PostgreSQL refuses to ALTER a table in the transaction that updated its rows ("pending trigger
    # events"): each step commits on its own.
    atomic = False

    dependencies = [
        ("indicators", "0012_indicator_mapping"),
    ]

    operations = [
        # --- the records' attributes ---
        migrations.AddField(
            model_name="application",
            name="customer_class",
            field=models.CharField(
                choices=[("residential", "居民"), ("low_voltage", "低压非居民"), ("high_voltage", "高压")],
                default="residential",
                max_length=16,
                verbose_name="用户类别",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="application",
            name="voltage",
            field=models.CharField(
                blank=True,
                choices=[
                    ("220v", "220伏"),
                    ("380v", "380伏"),
                    ("10kv", "10千伏"),
                    ("20kv", "20千伏"),
                    ("35kv", "35千伏"),
                    ("110kv", "110千伏及以上"),
                ],
                max_length=8,
                verbose_name="供电电压",
            ),
        ),
        migrations.AddField(model_name="application", name="dual_source", field=models.BooleanField(default=False, verbose_name="双电源")),
        migrations.AddField(
            model_name="application",
            name="capacity_kw",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                max_digits=10,
                null=True,
                validators=[django.core.validators.MinValueValidator(0)],
                verbose_name="报装容量（kW）",
            ),
        ),
        migrations.AddField(
            model_name="application",
            name="area",
            field=models.CharField(blank=True, choices=[("urban", "城市"), ("rural", "农村")], max_length=8, verbose_name="城乡"),
        ),
        migrations.AddField(
            model_name="application", name="small_micro", field=models.BooleanField(default=False, verbose_name="小微企业")
        ),
        migrations.AddField(
            model_name="application", name="three_zero", field=models.BooleanField(default=False, verbose_name="“三零”服务")
        ),
        migrations.RunPython(types_to_attributes, attributes_to_types),
        _with_default("application"),  # so the field can be added back, reversed, on existing rows
        migrations.RemoveField(model_name="application", name="customer_type"),
        migrations.AddConstraint(
            model_name="application",
            constraint=models.CheckConstraint(condition=models.Q(("capacity_kw__gte", 0)), name="application_capacity_not_negative"),
        ),
        # --- the rules: per program, a predicate instead of a type ---
        migrations.RemoveConstraint(model_name="applicationrule", name="application_rule_unique"),
        migrations.AddField(
            model_name="applicationrule",
            name="program",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="application_rules",
                to="indicators.program",
                verbose_name="方案",
            ),
        ),
        migrations.AddField(
            model_name="applicationrule",
            name="applies_to",
            field=models.CharField(
                blank=True,
                help_text="如“class=low_voltage;small_micro=yes;capacity_kw<=160”；留空：全部记录。",
                max_length=300,
                verbose_name="适用记录",
            ),
        ),
        migrations.AddField(
            model_name="applicationrule",
            name="statistic",
            field=models.CharField(
                choices=[("each", "每件"), ("average", "平均"), ("longest", "最长")], default="each", max_length=8, verbose_name="统计口径"
            ),
        ),
        migrations.AddField(
            model_name="applicationrule",
            name="note",
            field=models.TextField(blank=True, help_text="出处的原话。", verbose_name="原文"),
        ),
        migrations.AlterField(
            model_name="applicationrule",
            name="indicator",
            field=models.ForeignKey(
                blank=True,
                help_text="留空：方案的时限目标，不对应指标。",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="application_rules",
                to="indicators.indicator",
                verbose_name="指标",
            ),
        ),
        migrations.RunPython(rules_to_predicates, predicates_to_types),
        _with_default("applicationrule"),
        migrations.RemoveField(model_name="applicationrule", name="customer_type"),
        migrations.AlterField(
            model_name="applicationrule",
            name="program",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="application_rules",
                to="indicators.program",
                verbose_name="方案",
            ),
        ),
        migrations.AlterModelOptions(
            name="applicationrule",
            options={"ordering": ["program", "indicator", "pk"], "verbose_name": "报装考核规则", "verbose_name_plural": "报装考核规则"},
        ),
    ]
