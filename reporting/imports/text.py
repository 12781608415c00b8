"""How the importer reads a cell's text: stripped, whitespace-free for comparing labels and names,
and keys that let a title, a period line or an indicator label match however it was typed."""

import re

_SPACES = re.compile(r"\s+")


def as_text(value):
    """A cell as text, stripped; numbers without a spurious “.0”; dates left to the month parser."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def compact(value):
    """For comparing labels and names: no whitespace at all (full-width spaces included)."""
    return _SPACES.sub("", as_text(value).replace("\u3000", ""))


def title_key(value):
    return re.sub(r"[“”\"「」『』'‘’]", "", compact(value))


def span_key(value):
    text = re.sub(r"[（）()\[\]【】]", "", compact(value))
    return re.sub(r"[—–\-－~～至―]+", "-", text)


def label_key(value):
    return compact(value).replace("＊", "*")


def shown(value, limit=30):
    text = as_text(value)
    return text if len(text) <= limit else text[:limit] + "…"
