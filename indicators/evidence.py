"""Evidence files (佐证材料) attached to indicator check-marks: which files are accepted.

A file is accepted when its name is sane, its extension is one we allow, its size is within the
limit, and its content really is what the extension says. The content is recognised from its
first bytes, and for ZIP-based formats (Office Open XML, OFD) from the ZIP's central directory;
nothing is ever decompressed, so a "zip bomb" costs us no more than reading its directory.
"""

import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from utilities.formatting import file_size_label

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_NAME_LENGTH = 200

ALLOWED_SUMMARY = "只接受 PDF、OFD、图片（PNG/JPG/GIF/WebP）和 Office 文档（Word/Excel/PowerPoint/WPS）"

ZIP_MAGIC = rb"PK\x03\x04"
OLE2_MAGIC = rb"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File Binary: legacy Office and WPS
HEAD_BYTES = 16  # enough for every signature below

# The ZIP end record is 22 bytes plus a comment of at most 64 KiB: that tail is all we search.
_EOCD_SEARCH = 22 + 0xFFFF
# zipfile loads the whole central directory into memory; a real document's is a few KiB
# (about 100 bytes an entry), so 1 MiB leaves room for ~10 000 entries and stops a "bomb" of them.
MAX_CENTRAL_DIRECTORY = 1024 * 1024

# Cc: control characters; Cf: invisible formatting, e.g. U+202E, which displays "报告\u202Efdp.exe"
# as "报告exe.pdf"; Zl/Zp: line breaks; Cs: undecodable bytes.
_FORBIDDEN_IN_NAMES = {"Cc", "Cf", "Zl", "Zp", "Cs"}


@dataclass(frozen=True)
class EvidenceKind:
    label: str  # as in “内容不是 PNG 图片”
    extensions: tuple[str, ...]
    magic: bytes  # regular expression the file must start with
    entries: tuple[str, ...] = ()  # for ZIP packages: entries it must hold ("dir/" = any entry under it)

    def matches(self, head, zip_names):
        if not re.match(self.magic, head, re.DOTALL):
            return False
        if not self.entries:
            return True
        return zip_names is not None and all(_has_entry(zip_names, e) for e in self.entries)


EVIDENCE_KINDS = {
    "pdf": EvidenceKind("PDF 文档", ("pdf",), rb"%PDF-"),
    # GB/T 33190: an OFD is a ZIP package whose entry point is OFD.xml at its root.
    "ofd": EvidenceKind("OFD 版式文档", ("ofd",), ZIP_MAGIC, ("OFD.xml",)),
    "png": EvidenceKind("PNG 图片", ("png",), rb"\x89PNG\r\n\x1a\n"),
    "jpeg": EvidenceKind("JPEG 图片", ("jpg", "jpeg"), rb"\xff\xd8\xff"),
    "gif": EvidenceKind("GIF 图片", ("gif",), rb"GIF8[79]a"),
    "webp": EvidenceKind("WebP 图片", ("webp",), rb"RIFF.{4}WEBP"),
    "docx": EvidenceKind("Word 文档", ("docx",), ZIP_MAGIC, ("[Content_Types].xml", "word/")),
    "xlsx": EvidenceKind("Excel 表格", ("xlsx",), ZIP_MAGIC, ("[Content_Types].xml", "xl/")),
    "pptx": EvidenceKind("PowerPoint 演示文稿", ("pptx",), ZIP_MAGIC, ("[Content_Types].xml", "ppt/")),
    # One container for all of these; telling a .doc from an .xls would mean parsing it, and the
    # extension is then only a hint to the viewer, not a safety question.
    "ole2": EvidenceKind("旧版 Office/WPS 文档", ("doc", "xls", "ppt", "wps", "et", "dps"), OLE2_MAGIC),
}

_KIND_BY_EXTENSION = {ext: key for key, kind in EVIDENCE_KINDS.items() for ext in kind.extensions}


def validate_upload(upload, *, max_bytes=DEFAULT_MAX_BYTES):
    """Return the kind of `upload` (a key of EVIDENCE_KINDS), or raise ValidationError saying why not.

    Reads only the first bytes and, for a ZIP, its last 64 KiB and central directory; leaves the
    file at position 0.
    """
    name = upload.name or ""
    shown = _shown(name)
    _check_name(name, shown)

    extension = name.rpartition(".")[2].lower() if "." in name else ""
    expected = _KIND_BY_EXTENSION.get(extension)
    if expected is None:
        raise ValidationError(f"文件“{shown}”的类型不允许：{ALLOWED_SUMMARY}。", code="bad_type")

    # upload.size is what Django actually received, not what the browser claimed.
    if upload.size == 0:
        raise ValidationError(f"文件“{shown}”是空文件。", code="empty")
    if upload.size > max_bytes:
        size, limit = file_size_label(upload.size), file_size_label(max_bytes)
        if size == limit:  # e.g. 20.01 MB shown as "20 MB": say it in bytes instead
            size, limit = f"{upload.size} 字节", f"{max_bytes} 字节"
        raise ValidationError(f"文件“{shown}”大小 {size}，超过上限 {limit}。", code="too_large")

    try:
        actual = _detect(upload, expected)
    finally:
        upload.seek(0)
    if actual != expected:
        reason = f"内容不是 {EVIDENCE_KINDS[expected].label}"
        if actual is not None:
            reason += f"，而是 {EVIDENCE_KINDS[actual].label}"
        raise ValidationError(f"文件“{shown}”的内容与扩展名不符（{reason}）。", code="mismatch")
    return expected


def _check_name(name, shown):
    if not name:
        raise ValidationError("文件没有文件名。", code="bad_name")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"文件名“{shown[:40]}…”过长（{len(name)} 个字符），不能超过 {MAX_NAME_LENGTH} 个字符。",
            code="bad_name",
        )
    # Django strips "dir/" itself, but not a Windows "C:\dir\" (old browsers send one).
    if "/" in name or "\\" in name:
        raise ValidationError(f"文件名“{shown}”不能包含路径分隔符（/ 或 \\）。", code="bad_name")
    if any(unicodedata.category(c) in _FORBIDDEN_IN_NAMES for c in name):
        raise ValidationError(f"文件名“{shown}”含有控制字符或不可见字符。", code="bad_name")


def _shown(name):
    """The name as it can safely appear in a message: invisible characters spelled out."""
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in _FORBIDDEN_IN_NAMES else c for c in name)


def _detect(upload, expected):
    """The kind the content is, trying the expected one first; None if no kind fits."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    zip_names = _zip_names(upload) if re.match(ZIP_MAGIC, head) else None
    for key in (expected, *EVIDENCE_KINDS):
        if EVIDENCE_KINDS[key].matches(head, zip_names):
            return key
    return None


def _zip_names(upload):
    """Entry names from the ZIP's central directory, or None if it is not a modest, plain ZIP."""
    # Find the end record the way zipfile does (the last one in the tail) and check the size of
    # the directory it points to before letting zipfile load it.
    upload.seek(max(0, upload.size - _EOCD_SEARCH))
    tail = upload.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    # ZIP64 (a locator just before the end record) would let the directory size be restated;
    # no document under our size limit needs it.
    if at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
        return None
    if int.from_bytes(tail[at + 12 : at + 16], "little") > MAX_CENTRAL_DIRECTORY:
        return None
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:  # reads the directory only; extracts nothing
            return frozenset(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):  # ValueError: e.g. a name that is not UTF-8
        return None


def _has_entry(names, entry):
    if entry.endswith("/"):
        return any(n.startswith(entry) for n in names)
    return entry in names
