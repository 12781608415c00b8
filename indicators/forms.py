"""The sheet form: one status, month pair and note per indicator, parsed without losing anything typed."""

from dataclasses import dataclass

from .models import CheckmarkStatus
from .periods import parse_month
from .services import CheckmarkValue


@dataclass
class Typed:
    """What the user typed for one indicator, echoed back if the save is refused."""

    status: str = ""
    done_month: str = ""
    expected_month: str = ""
    note: str = ""


def typed_from_checkmark(checkmark):
    if checkmark is None:
        return Typed()
    return Typed(
        status=checkmark.status,
        done_month=f"{checkmark.done_month:%Y-%m}" if checkmark.done_month else "",
        expected_month=f"{checkmark.expected_month:%Y-%m}" if checkmark.expected_month else "",
        note=checkmark.note,
    )


FIELDS = ("status", "done_month", "expected_month", "note")


def parse_version(data):
    """The version the form was rendered with; None when it is missing or not a whole number."""
    raw = data.get("version", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def parse_sheet(data, indicators, stored=None):
    """Return ``(values, typed, errors)``; errors map an indicator label to its messages.

    Only what was sent is changed: an indicator none of whose fields is in ``data`` is left out of
    ``values`` (unchanged, never blanked), and a field left out of ``data`` keeps its ``stored``
    value ({number: Typed}). An empty value sent (“未开展（留空）”, an emptied month or note) clears.
    """
    stored = stored or {}
    values, typed, errors = {}, {}, {}
    for indicator in indicators:
        n = indicator.number
        before = stored.get(n) or Typed()
        sent = [name for name in FIELDS if f"{name}_{n}" in data]
        entry = Typed(*(data[f"{name}_{n}"].strip() if name in sent else getattr(before, name) for name in FIELDS))
        typed[n] = entry
        if not sent:
            continue
        if entry.status not in ("", *CheckmarkStatus.values):
            errors[indicator.label] = [f"指标 {indicator.label}：请选择“已完成”或“未完成”。"]
            continue
        months = {}
        for name, label in (("done_month", "完成月份"), ("expected_month", "预计完成月份")):
            raw = getattr(entry, name)
            wanted = (name == "done_month") == (entry.status == CheckmarkStatus.DONE)
            if not raw or not wanted:
                months[name] = None
                continue
            try:
                months[name] = parse_month(raw)
            except ValueError as exc:
                errors.setdefault(indicator.label, []).append(f"指标 {indicator.label} 的{label}：{exc}")
        values[n] = CheckmarkValue(entry.status, months.get("done_month"), months.get("expected_month"), entry.note)
    return values, typed, errors


def sheet_files(files, indicators):
    """The evidence uploaded with the sheet, as [(indicator number, upload)]."""
    return [(indicator.number, upload) for indicator in indicators for upload in files.getlist(f"evidence_{indicator.number}")]


def signoff_exceptions(data, counties):
    """The exceptions a sign-off form names, as ``{county code: reason}`` for the services'
    ``exceptions``, and the form's own errors (``rest``, ``rest:<city code>``).

    ``counties``: the counties the form lists (not approved, each with its ``parent``). A county is
    named when ticked (列为例外) with its own reason; one without a reason of its own takes its city's
    when “该市其余县全部列为例外” is ticked for that city, else the one reason of “其余县全部列为例外”.
    So each county is still named one by one, in the table and in the audit. A ticked code the form
    does not list is passed on as it is: the services say why it cannot be named.
    """
    named = {code: data.get(f"reason_{code}", "") for code in data.getlist("exception")}
    errors = {}
    everyone, general = bool(data.get("rest_all")), data.get("rest_reason", "").strip()
    if everyone and not general:
        errors["rest"] = ["请写明其余县列为例外的原因。"]
    per_city = {}
    for code in data.getlist("rest_city"):
        per_city[code] = data.get(f"rest_reason_{code}", "").strip()
    for county in counties:
        if named.get(county.code, "").strip():
            continue
        city = county.parent
        if city.code in per_city:
            reason = per_city[city.code]
            if not reason:
                errors[f"rest:{city.code}"] = [f"请写明{city.name}其余县列为例外的原因。"]
        else:
            reason = general if everyone else ""
        if reason:
            named[county.code] = reason
    return named, errors
