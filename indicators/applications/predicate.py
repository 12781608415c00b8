"""Which records a rule applies to: a small predicate over the records' attributes, one parser
(``parse``) and one evaluator (``Term.q`` in SQL, ``Term.test`` on a loaded record; ``as_q``, ``holds``).

Syntax (docs/applications.md, fixtures/reference/FORMAT.md): terms joined by “;”, all must hold;
a term is ``key=value`` (several values with “|”: any of them) or, for ``capacity_kw``, a
comparison ``<=``, ``<``, ``>=``, ``>``, ``=``. An empty predicate applies to every record.

    class=low_voltage;small_micro=yes;capacity_kw<=160
    class=residential|low_voltage
"""

import operator
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q

from ..models import Area, CustomerClass, Stage, VoltageLevel

YES_NO = {"yes": True, "no": False}
_OPTIONAL_STAGES = [s for s in Stage if s not in (Stage.ACCEPTANCE, Stage.CONNECTION)]


@dataclass(frozen=True)
class _Key:
    """One attribute a predicate may name: its label, its values and how a value reads."""

    label: str
    values: dict  # value written in the predicate → its meaning (choice value or bool); None: a number
    field: str = ""  # the Application field compared; "" for a derived attribute
    words: dict = None  # value → how describe() writes it


def _choices(choices):
    return {value: value for value in choices.values}


KEYS = {
    "class": _Key("用户类别", _choices(CustomerClass), "customer_class", dict(CustomerClass.choices)),
    "voltage": _Key("供电电压", _choices(VoltageLevel), "voltage", dict(VoltageLevel.choices)),
    "dual_source": _Key("双电源", YES_NO, "dual_source", {"yes": "双电源", "no": "单电源"}),
    "capacity_kw": _Key("报装容量（kW）", None, "capacity_kw"),
    "area": _Key("城乡", _choices(Area), "area", {"urban": "城市地区", "rural": "农村地区"}),
    "small_micro": _Key("小微企业", YES_NO, "small_micro", {"yes": "小微企业", "no": "非小微企业"}),
    "three_zero": _Key("“三零”服务", YES_NO, "three_zero", {"yes": "实行“三零”服务", "no": "未实行“三零”服务"}),
    "zero_investment": _Key("零投资", YES_NO, words={"yes": "用户零投资", "no": "用户有投资"}),
    **{
        str(stage): _Key(f"有{stage.label}环节", YES_NO, f"{stage}_start", {"yes": f"有{stage.label}环节", "no": f"无{stage.label}环节"})
        for stage in _OPTIONAL_STAGES
    },
}
_STAGE_KEYS = frozenset(str(s) for s in _OPTIONAL_STAGES)
COMPARISONS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "=": operator.eq}
_LOOKUPS = {"<=": "lte", "<": "lt", ">=": "gte", ">": "gt", "=": "exact"}
_TERM = re.compile(r"^\s*([a-z_]+)\s*(<=|>=|<|>|=)\s*(.+?)\s*$")


@dataclass(frozen=True)
class Term:
    key: str
    op: str
    values: tuple  # choice values / bools for “=”; one Decimal for a comparison

    def q(self):
        """The term as a SQL condition on Application."""
        spec = KEYS[self.key]
        if self.key == "capacity_kw":
            return Q(**{f"capacity_kw__{_LOOKUPS[self.op]}": self.values[0]})
        if self.key == "zero_investment":
            return Q(investment=0) if self.values[0] else ~Q(investment=0)
        if self.key in _STAGE_KEYS:
            return Q(**{f"{spec.field}__isnull": not self.values[0]})
        return Q(**{f"{spec.field}__in": list(self.values)})

    def test(self, record):
        """The same condition on a loaded record (an unknown capacity meets no comparison, as in SQL)."""
        spec = KEYS[self.key]
        if self.key == "capacity_kw":
            return record.capacity_kw is not None and COMPARISONS[self.op](record.capacity_kw, self.values[0])
        if self.key == "zero_investment":
            return (record.investment == 0) == self.values[0]
        if self.key in _STAGE_KEYS:
            return (getattr(record, spec.field) is not None) == self.values[0]
        return getattr(record, spec.field) in self.values

    def describe(self):
        spec = KEYS[self.key]
        if self.key == "capacity_kw":
            limit = f"{self.values[0].normalize():f}kW"
            return {"<=": f"{limit}及以下", ">=": f"{limit}及以上", "<": f"不足{limit}", ">": f"{limit}以上", "=": limit}[self.op]
        written = {v: w for w, v in spec.values.items()}
        return "或".join(spec.words[written[v]] for v in self.values)


def parse(text):
    """The terms of a predicate; ValueError with a Chinese message naming the bad term."""
    terms, seen = [], set()
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        match = _TERM.match(part)
        if not match:
            raise ValueError(f"“{part.strip()}”不是“属性=值”或“capacity_kw<=数值”的写法")
        key, op, value = match.groups()
        if key not in KEYS:
            raise ValueError(f"未知属性“{key}”，应为：{'、'.join(KEYS)}")
        if key in seen:
            raise ValueError(f"属性“{key}”写了两次")
        seen.add(key)
        spec = KEYS[key]
        if spec.values is None:
            try:
                number = Decimal(value)
            except InvalidOperation:
                raise ValueError(f"“{value}”不是数值（{key}）") from None
            if not number.is_finite() or number < 0:
                raise ValueError(f"“{value}”不是非负数值（{key}）")
            terms.append(Term(key, op, (number,)))
            continue
        if op != "=":
            raise ValueError(f"属性“{key}”只能用“=”")
        unknown = [v for v in value.split("|") if v not in spec.values]
        if unknown:
            raise ValueError(f"属性“{key}”的值“{'|'.join(unknown)}”未知，应为：{'、'.join(spec.values)}")
        terms.append(Term(key, op, tuple(spec.values[v] for v in value.split("|"))))
    return tuple(terms)


def as_q(terms):
    """The predicate as one SQL condition (every record for no terms)."""
    condition = Q()
    for term in terms:
        condition &= term.q()
    return condition


def holds(terms, record):
    return all(term.test(record) for term in terms)


def describe(terms):
    """The predicate in words: “低压非居民、小微企业、160kW及以下”; “全部用户” for none."""
    return "、".join(term.describe() for term in terms) or "全部用户"
