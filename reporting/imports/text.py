"""How the importer reads a cell's text: stripped, whitespace-free for comparing labels and names,
and keys that let a title, a period line or an indicator label match however it was typed."""

import re

from utilities.excel import compact, plain_text


def title_key(value):
    return re.sub(r"[“”\"「」『』'‘’]", "", compact(value))


def span_key(value):
    text = re.sub(r"[（）()\[\]【】]", "", compact(value))
    return re.sub(r"[—–\-－~～至―]+", "-", text)


def label_key(value):
    return compact(value).replace("＊", "*")


def shown(value, limit=30):
    text = plain_text(value)
    return text if len(text) <= limit else text[:limit] + "…"
