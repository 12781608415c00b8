"""Evidence files: real sample files of every accepted kind pass; wrong, empty, oversized,
disguised or badly named files are refused with a message naming the file and the reason."""

import io
import struct
import zipfile
import zlib

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import (
    InMemoryUploadedFile,
    SimpleUploadedFile,
    TemporaryUploadedFile,
)

from indicators import evidence
from indicators.evidence import DEFAULT_MAX_BYTES, EVIDENCE_KINDS, validate_upload

# --- sample files, built here from their specifications ---------------------------------------


def make_pdf():
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_png():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte + one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def make_jpeg():
    # SOI + a JFIF APP0 segment + EOI: the check reads only the signature.
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def make_gif():
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0)
        + b"\x00\x00\x00\xff\xff\xff"
        + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def make_webp():
    body = b"WEBP" + b"VP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00" + b"\x00"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def make_zip(entries, **kwargs):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, **kwargs) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def make_docx():
    return make_zip(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "_rels/.rels": "<Relationships/>",
            "word/document.xml": '<w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p/></w:body></w:document>',
        }
    )


def make_pptx():
    return make_zip({"[Content_Types].xml": CONTENT_TYPES, "ppt/presentation.xml": "<p:presentation/>"})


def make_xlsx():
    book = openpyxl.Workbook()
    book.active["A1"] = "用电报装"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def make_ofd():
    return make_zip(
        {
            "OFD.xml": '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>',
            "Doc_0/Document.xml": "<ofd:Document/>",
        }
    )


def make_ole2():
    # The 512-byte compound-file header: signature, minor/major version, byte order, sector shift.
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHH", 0x3E, 3, 0xFFFE, 9)
    return header.ljust(512, b"\x00")


def upload(name, content):
    return SimpleUploadedFile(name, content)


def refusal(file, **kwargs):
    with pytest.raises(ValidationError) as caught:
        validate_upload(file, **kwargs)
    return caught.value.messages[0], caught.value.error_list[0].code


# --- accepted ----------------------------------------------------------------------------------

ACCEPTED = [
    ("营商环境报告.pdf", make_pdf, "pdf"),
    ("扫描件.PDF", make_pdf, "pdf"),
    ("现场照片.png", make_png, "png"),
    ("现场照片.jpg", make_jpeg, "jpeg"),
    ("现场照片.jpeg", make_jpeg, "jpeg"),
    ("示意图.gif", make_gif, "gif"),
    ("手机截图.webp", make_webp, "webp"),
    ("办电流程说明.docx", make_docx, "docx"),
    ("报装台账.xlsx", make_xlsx, "xlsx"),
    ("汇报材料.pptx", make_pptx, "pptx"),
    ("电子发票.ofd", make_ofd, "ofd"),
    ("旧版文件.doc", make_ole2, "ole2"),
    ("旧版表格.xls", make_ole2, "ole2"),
    ("旧版幻灯片.ppt", make_ole2, "ole2"),
    ("WPS文字.wps", make_ole2, "ole2"),
    ("WPS表格.et", make_ole2, "ole2"),
    ("WPS演示.dps", make_ole2, "ole2"),
]


@pytest.mark.parametrize(("name", "make", "kind"), ACCEPTED)
def test_accepted_kinds(name, make, kind):
    content = make()
    file = upload(name, content)
    file.read(3)  # wherever the caller left it, validation looks from the start
    assert validate_upload(file, max_bytes=DEFAULT_MAX_BYTES) == kind
    assert file.read() == content  # and leaves the file at its start, unchanged


def test_every_kind_and_extension_is_exercised_once():
    extensions = [ext for kind in EVIDENCE_KINDS.values() for ext in kind.extensions]
    assert len(extensions) == len(set(extensions))
    assert {name.rpartition(".")[2].lower() for name, _, _ in ACCEPTED} == set(extensions)
    assert {kind for _, _, kind in ACCEPTED} == set(EVIDENCE_KINDS)
    assert DEFAULT_MAX_BYTES == 20 * 1024 * 1024


def test_upload_streamed_to_disk_is_read_in_place():
    # Large uploads arrive as TemporaryUploadedFile; zipfile reads it through Django's file proxy.
    content = make_docx()
    file = TemporaryUploadedFile("办电流程说明.docx", "application/octet-stream", len(content), None)
    file.write(content)
    try:
        assert validate_upload(file, max_bytes=DEFAULT_MAX_BYTES) == "docx"
        assert file.tell() == 0
    finally:
        file.close()


def test_default_limit_applies_without_max_bytes():
    assert validate_upload(upload("报告.pdf", make_pdf())) == "pdf"


def test_name_of_exactly_200_characters_is_accepted():
    name = "甲" * 196 + ".pdf"
    assert len(name) == 200
    assert validate_upload(upload(name, make_pdf()), max_bytes=DEFAULT_MAX_BYTES) == "pdf"


def test_reads_only_the_head_of_a_large_file():
    class CountingBytes(io.BytesIO):
        read_total = 0

        def read(self, size=-1):
            data = super().read(size)
            self.read_total += len(data)
            return data

    content = make_pdf() + b"%" + bytes(1024 * 1024)
    file = InMemoryUploadedFile(CountingBytes(content), None, "大文件.pdf", "application/pdf", len(content), None)
    assert validate_upload(file, max_bytes=DEFAULT_MAX_BYTES) == "pdf"
    assert file.file.read_total <= 64 and file.tell() == 0


# --- refused: type and content -----------------------------------------------------------------


def test_executable_is_refused():
    message, code = refusal(upload("报告.exe", b"MZ\x90\x00" + bytes(60)), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "bad_type"
    assert message == ("文件“报告.exe”的类型不允许：只接受 PDF、OFD、图片（PNG/JPG/GIF/WebP）和 Office 文档（Word/Excel/PowerPoint/WPS）。")


@pytest.mark.parametrize("name", ["说明", "压缩包.zip", "网页.html", "脚本.js", "图片.svg", "结尾点."])
def test_other_extensions_are_refused(name):
    message, code = refusal(upload(name, b"anything"), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "bad_type" and f"文件“{name}”的类型不允许" in message


def test_pdf_named_png_is_refused():
    message, code = refusal(upload("照片.png", make_pdf()), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "mismatch"
    assert message == "文件“照片.png”的内容与扩展名不符（内容不是 PNG 图片，而是 PDF 文档）。"


def test_unrecognised_content_is_refused():
    message, code = refusal(upload("照片.jpg", b"just some text, not an image"), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "mismatch"
    assert message == "文件“照片.jpg”的内容与扩展名不符（内容不是 JPEG 图片）。"


def test_zip_without_content_types_named_docx_is_refused():
    content = make_zip({"word/document.xml": "<w:document/>", "readme.txt": "x"})
    message, code = refusal(upload("方案.docx", content), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "mismatch"
    assert message == "文件“方案.docx”的内容与扩展名不符（内容不是 Word 文档）。"


def test_xlsx_named_docx_is_refused():
    message, code = refusal(upload("台账.docx", make_xlsx()), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "mismatch"
    assert message == "文件“台账.docx”的内容与扩展名不符（内容不是 Word 文档，而是 Excel 表格）。"


def test_docx_named_doc_is_refused():
    message, _ = refusal(upload("方案.doc", make_docx()), max_bytes=DEFAULT_MAX_BYTES)
    assert message == "文件“方案.doc”的内容与扩展名不符（内容不是 旧版 Office/WPS 文档，而是 Word 文档）。"


def test_truncated_zip_named_xlsx_is_refused():
    message, code = refusal(upload("台账.xlsx", make_xlsx()[:200]), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "mismatch" and "“台账.xlsx”" in message and "内容不是 Excel 表格" in message


def test_zip_with_an_oversized_central_directory_is_refused_unopened(monkeypatch):
    # A "bomb" of entries: lower the ceiling rather than build a megabyte-sized directory.
    file = upload("方案.docx", make_docx())
    monkeypatch.setattr(evidence, "MAX_CENTRAL_DIRECTORY", 64)
    monkeypatch.setattr(zipfile, "ZipFile", None)  # proves zipfile is not even reached
    message, code = refusal(file, max_bytes=DEFAULT_MAX_BYTES)
    assert code == "mismatch" and "内容不是 Word 文档" in message


def test_zip64_is_refused(monkeypatch):
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 0)  # makes zipfile write ZIP64 records
    content = make_zip({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": "<w:document/>"})
    monkeypatch.undo()
    assert b"PK\x06\x07" in content
    message, code = refusal(upload("方案.docx", content), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "mismatch" and "内容不是 Word 文档" in message


def test_a_highly_compressed_entry_is_not_extracted():
    # 200 MB of zeros deflates to ~200 KB; validation only reads the directory.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open("word/media/zeros.bin", "w") as entry:
            block = bytes(1024 * 1024)
            for _ in range(200):
                entry.write(block)
    content = buffer.getvalue()
    assert len(content) < 1024 * 1024
    assert validate_upload(upload("方案.docx", content), max_bytes=DEFAULT_MAX_BYTES) == "docx"


# --- refused: size -----------------------------------------------------------------------------


def test_empty_file_is_refused():
    message, code = refusal(upload("空.pdf", b""), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "empty" and message == "文件“空.pdf”是空文件。"


def test_too_large_is_refused_before_reading():
    file = upload("扫描件.pdf", b"%PDF-")
    file.size = int(25.3 * 1024 * 1024)  # the size Django measured; the content is never read
    message, code = refusal(file, max_bytes=DEFAULT_MAX_BYTES)
    assert code == "too_large"
    assert message == "文件“扫描件.pdf”大小 25.3 MB，超过上限 20 MB。"


def test_too_large_with_a_small_limit():
    png = make_png()
    message, _ = refusal(upload("照片.png", png + bytes(3000 - len(png))), max_bytes=1000)
    assert message == "文件“照片.png”大小 2.9 KB，超过上限 1000 字节。"


def test_just_over_the_limit_is_told_in_bytes():
    file = upload("扫描件.pdf", b"%PDF-")
    file.size = DEFAULT_MAX_BYTES + 1
    message, _ = refusal(file, max_bytes=DEFAULT_MAX_BYTES)
    assert message == "文件“扫描件.pdf”大小 20971521 字节，超过上限 20971520 字节。"


def test_exactly_at_the_limit_is_accepted():
    content = make_pdf()
    assert validate_upload(upload("报告.pdf", content), max_bytes=len(content)) == "pdf"


# --- refused: names ----------------------------------------------------------------------------


def test_name_too_long_is_refused():
    name = "关于推进获得电力改革的工作报告" * 14 + ".pdf"
    assert len(name) > 200
    message, code = refusal(upload(name, make_pdf()), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "bad_name"
    assert message.startswith("文件名“关于推进获得电力改革的工作报告") and f"过长（{len(name)} 个字符）" in message
    assert message.endswith("不能超过 200 个字符。")


def test_windows_path_is_refused():
    message, code = refusal(upload("C:\\Users\\张三\\报告.pdf", make_pdf()), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "bad_name"
    assert message == "文件名“C:\\Users\\张三\\报告.pdf”不能包含路径分隔符（/ 或 \\）。"


def test_slash_is_refused_when_not_stripped_by_django():
    # UploadedFile keeps only the base name; a plain File keeps whatever it is given.
    file = File(io.BytesIO(make_pdf()), name="../材料/报告.pdf")
    message, code = refusal(file, max_bytes=DEFAULT_MAX_BYTES)
    assert code == "bad_name" and "“../材料/报告.pdf”" in message and "路径分隔符" in message


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("报告\x00.pdf", "报告\\u0000.pdf"),
        ("报告\n.pdf", "报告\\u000a.pdf"),
        ("报告\u202efdp.exe", "报告\\u202efdp.exe"),  # displays as "报告exe.pdf"
    ],
)
def test_control_characters_are_refused(name, shown):
    message, code = refusal(upload(name, make_pdf()), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "bad_name"
    assert message == f"文件名“{shown}”含有控制字符或不可见字符。"


def test_missing_name_is_refused():
    message, code = refusal(File(io.BytesIO(make_pdf())), max_bytes=DEFAULT_MAX_BYTES)
    assert code == "bad_name" and message == "文件没有文件名。"
