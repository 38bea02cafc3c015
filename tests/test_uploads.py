"""app/services/uploads.py: every file is made here, in code; nothing needs the app or the database."""
import hashlib
import io
import os
import re
import struct
import warnings
import zipfile
import zlib

import pytest
from PIL import Image

from app.services import ServiceError, uploads
from app.services.uploads import DEFAULT_MAX_BYTES, StoredFile, UploadRefused, delete_stored, inspect_upload, open_stored, store_upload

LIMIT = DEFAULT_MAX_BYTES
KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}$")


# --- files made in code -------------------------------------------------------------------


def image_bytes(fmt, size=(64, 48), mode="RGB", **save):
    im = Image.new(mode, size, (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30))
    out = io.BytesIO()
    im.save(out, fmt, **save)
    return out.getvalue()


def noise_image(fmt, size, **save):
    im = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))  # noise does not compress
    out = io.BytesIO()
    im.save(out, fmt, **save)
    return out.getvalue()


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def bomb_png(side=30000):
    """A real ~0.5 MB PNG of side×side black 1-bit pixels: 900 million pixels once decoded."""
    packer = zlib.compressobj(1)
    rows = (b"\x00" * (1 + (side + 7) // 8)) * 1000
    idat = b"".join(packer.compress(rows) for _ in range(side // 1000)) + packer.flush()
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def zip_bytes(entries):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


DOCX = {"[Content_Types].xml": "<Types/>", "_rels/.rels": "<Relationships/>", "word/document.xml": "<w:document/>"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def files_under(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


def store(tmp_path, name, data, **kwargs):
    kwargs.setdefault("max_bytes", LIMIT)
    return store_upload(tmp_path / "uploads", name, io.BytesIO(data), **kwargs)


def refused(tmp_path, name, data, reason, **kwargs):
    """The refusal, after checking its reason, that it names the file, and that nothing reached the disk."""
    with pytest.raises(UploadRefused) as caught:
        store(tmp_path, name, data, **kwargs)
    assert caught.value.reason == reason, caught.value.message
    assert f"« {caught.value.filename} »" in caught.value.message
    assert files_under(tmp_path / "uploads") == []
    return caught.value


def read_stored(tmp_path, key):
    with open_stored(tmp_path / "uploads", key) as f:
        return f.read()


# --- accepted files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, fmt, content_type",
    [("photo.png", "PNG", "image/png"), ("photo.jpg", "JPEG", "image/jpeg"), ("anim.gif", "GIF", "image/gif"), ("pic.webp", "WEBP", "image/webp")],
)
def test_valid_images_are_stored_unchanged_with_a_preview(tmp_path, name, fmt, content_type):
    data = image_bytes(fmt, size=(1000, 600))
    stored = store(tmp_path, name, data)
    assert isinstance(stored, StoredFile)
    assert (stored.filename, stored.content_type, stored.size) == (name, content_type, len(data))
    assert stored.is_image and (stored.width, stored.height) == (1000, 600)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert KEY.match(stored.storage_key)
    assert read_stored(tmp_path, stored.storage_key) == data  # the original, byte for byte
    assert stored.preview_key.startswith(stored.storage_key + ".preview.")
    with Image.open(io.BytesIO(read_stored(tmp_path, stored.preview_key))) as preview:
        assert preview.size == (480, 288)
        assert preview.format in ("PNG", "JPEG")
    assert sorted(files_under(tmp_path / "uploads")) == sorted([stored.storage_key, stored.preview_key])


def test_preview_is_png_for_transparency_and_jpeg_otherwise(tmp_path):
    clear = store(tmp_path, "logo.png", image_bytes("PNG", mode="RGBA"))
    opaque = store(tmp_path, "photo.png", image_bytes("PNG"))
    assert clear.preview_key.endswith(".png") and opaque.preview_key.endswith(".jpg")
    assert Image.open(io.BytesIO(read_stored(tmp_path, clear.preview_key))).mode == "RGBA"
    assert Image.open(io.BytesIO(read_stored(tmp_path, opaque.preview_key))).format == "JPEG"


def test_preview_follows_exif_orientation_but_the_original_is_untouched(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    data = image_bytes("JPEG", size=(800, 400), exif=exif.tobytes())
    stored = store(tmp_path, "phone.jpg", data)
    assert (stored.width, stored.height) == (800, 400)
    assert read_stored(tmp_path, stored.storage_key) == data
    with Image.open(io.BytesIO(read_stored(tmp_path, stored.preview_key))) as preview:
        assert preview.size == (240, 480)


@pytest.mark.parametrize("fmt, name, size, save", [("PNG", "scan.png", (1700, 1300), {}), ("JPEG", "photo.jpg", (2600, 2200), {"quality": 95})])
def test_large_legitimate_images_pass(tmp_path, fmt, name, size, save):
    data = noise_image(fmt, size, **save)
    assert len(data) > 6 * 1024 * 1024
    stored = store(tmp_path, name, data)
    assert stored.size == len(data) and read_stored(tmp_path, stored.storage_key) == data
    assert max(Image.open(io.BytesIO(read_stored(tmp_path, stored.preview_key))).size) == 480


def test_pdf(tmp_path):
    stored = store(tmp_path, "facture.pdf", PDF)
    assert (stored.content_type, stored.is_image, stored.preview_key, stored.width) == ("application/pdf", False, None, None)
    assert files_under(tmp_path / "uploads") == [stored.storage_key]


@pytest.mark.parametrize(
    "name, data, content_type",
    [
        ("notes.txt", "Réunion à 10 h — café offert\n".encode(), "text/plain; charset=utf-8"),
        ("export.csv", "nom;ville\nHélène;Abidjan\n".encode("latin-1"), "text/csv; charset=iso-8859-1"),
        ("server.log", b"\x1b[31mERROR\x1b[0m disk full\r\n\tretry\n", "text/plain; charset=utf-8"),
    ],
)
def test_text_files(tmp_path, name, data, content_type):
    stored = store(tmp_path, name, data)
    assert stored.content_type == content_type and read_stored(tmp_path, stored.storage_key) == data


@pytest.mark.parametrize(
    "name, entries, content_type",
    [
        ("contrat.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("budget.xlsx", {"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("slides.pptx", {"[Content_Types].xml": "<Types/>", "ppt/presentation.xml": "<p/>"}, "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("note.odt", {"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"}, "application/vnd.oasis.opendocument.text"),
        ("calc.ods", {"mimetype": "application/vnd.oasis.opendocument.spreadsheet"}, "application/vnd.oasis.opendocument.spreadsheet"),
        ("logs.zip", {"a.log": "x", "b.log": "y"}, "application/zip"),
        ("contrat.zip", DOCX, "application/zip"),
    ],
)
def test_documents_and_archives(tmp_path, name, entries, content_type):
    data = zip_bytes(entries)
    stored = store(tmp_path, name, data)
    assert stored.content_type == content_type and not stored.is_image
    assert read_stored(tmp_path, stored.storage_key) == data


def test_a_file_of_exactly_max_bytes_passes(tmp_path):
    assert store(tmp_path, "a.txt", b"a" * 1000, max_bytes=1000).size == 1000


# --- refused files ----------------------------------------------------------------------------


def test_one_byte_over_the_limit_is_too_large(tmp_path):
    refused(tmp_path, "a.txt", b"a" * 1001, "too_large", max_bytes=1000)
    error = refused(tmp_path, "gros.png", b"\0" * (LIMIT + 1), "too_large")
    assert error.message == "Le fichier « gros.png » dépasse la taille maximale de 25 Mo."
    assert isinstance(error, ServiceError) and error.filename == "gros.png"


def test_too_large_stops_reading_early():
    class Endless(io.RawIOBase):
        given = 0

        def read(self, n=-1):
            self.given += n
            return b"x" * n

    stream = Endless()
    with pytest.raises(UploadRefused) as caught:
        inspect_upload("big.txt", stream, max_bytes=5 * 1024 * 1024)
    assert caught.value.reason == "too_large" and stream.given == 5 * 1024 * 1024 + 1


def test_empty_file(tmp_path):
    assert refused(tmp_path, "vide.pdf", b"", "empty").message == "Le fichier « vide.pdf » est vide."


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("photo.png", b"#!/bin/sh\nrm -rf ~\n", "type_refused"),
        ("photo.png", b"echo pwned\n", "type_mismatch"),
        ("photo.png", b"<html><script>alert(1)</script></html>", "type_refused"),
        ("doc.pdf", b"<!DOCTYPE html>\n<html><body onload=alert(1)></body></html>", "type_refused"),
        ("doc.pdf", image_bytes("PNG"), "type_mismatch"),
        ("photo.png", PDF, "type_mismatch"),
        ("notes.txt", image_bytes("GIF"), "type_mismatch"),
        ("notes.txt", b"\x00\x01\x02binary", "type_mismatch"),
        ("contrat.docx", PDF, "type_mismatch"),
        ("contrat.docx", zip_bytes({"word/document.xml": "<w/>"}), "type_mismatch"),
        ("contrat.docx", zip_bytes(dict(DOCX, **{"word/vbaProject.bin": "macro"})), "type_refused"),
        ("contrat.docx", b"PK\x03\x04 broken zip", "type_mismatch"),
        ("note.odt", zip_bytes({"mimetype": "application/x-evil"}), "type_mismatch"),
        ("archive.rar", b"Rar!\x1a\x07\x00", "type_refused"),
        ("readme", b"plain text without an extension\n", "type_refused"),
        ("page.html", b"<p>hello</p>", "type_refused"),
        ("notes.txt", b"  <svg xmlns='http://www.w3.org/2000/svg'/>", "type_refused"),
        ("run.sh", b"#!/bin/bash\necho hi\n", "type_refused"),
    ],
)
def test_content_that_does_not_match_or_is_not_allowed(tmp_path, name, data, reason):
    assert refused(tmp_path, name, data, reason).filename == name


@pytest.mark.parametrize("name", ["logo.svg", "logo.png", "logo.txt"])
def test_svg_is_refused_whatever_its_name(tmp_path, name):
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    refused(tmp_path, name, svg, "type_refused")


@pytest.mark.parametrize("name", ["setup.exe", "rapport.pdf", "photo.jpg", "notes.txt"])
def test_executables_are_refused_whatever_their_name(tmp_path, name):
    refused(tmp_path, name, b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"This program cannot be run in DOS mode", "type_refused")
    refused(tmp_path, name, b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "type_refused")


@pytest.mark.parametrize("fmt, name", [("PNG", "cut.png"), ("JPEG", "cut.jpg"), ("GIF", "cut.gif"), ("WEBP", "cut.webp")])
def test_truncated_images_are_corrupt(tmp_path, fmt, name):
    data = noise_image(fmt, (300, 200))
    refused(tmp_path, name, data[: len(data) * 2 // 3], "corrupt_image")


def test_png_with_a_bad_checksum_is_corrupt(tmp_path):
    data = bytearray(image_bytes("PNG", size=(300, 200)))
    data[40] ^= 0xFF  # inside the IDAT payload: its CRC no longer matches
    refused(tmp_path, "bad.png", bytes(data), "corrupt_image")


def test_decompression_bomb_is_refused(tmp_path):
    data = bomb_png()
    assert len(data) < 1024 * 1024
    error = refused(tmp_path, "bomb.png", data, "image_too_large")
    assert "50 millions" in error.message


def test_bomb_refused_even_if_someone_disabled_pillows_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    refused(tmp_path, "bomb.png", bomb_png(), "image_too_large")


def test_max_pixels_is_a_parameter(tmp_path):
    refused(tmp_path, "big.png", image_bytes("PNG", size=(100, 100)), "image_too_large", max_pixels=9_999)
    assert store(tmp_path, "ok.png", image_bytes("PNG", size=(100, 100)), max_pixels=10_000).width == 100


def test_pillows_bomb_warning_becomes_a_refusal_without_leaking_filters(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4_000)  # another caller lowered Pillow's global limit
    filters = list(warnings.filters)
    refused(tmp_path, "warn.png", image_bytes("PNG", size=(100, 50)), "image_too_large")  # 5,000 px: Pillow warns
    refused(tmp_path, "error.png", image_bytes("PNG", size=(100, 100)), "image_too_large")  # 10,000 px: Pillow raises
    assert warnings.filters == filters


# --- names and storage keys ----------------------------------------------------------------


@pytest.mark.parametrize(
    "given, expected",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\system.ini.txt", "system.ini.txt"),
        ("C:\\Users\\awa\\Desktop\\rapport final.pdf", "rapport final.pdf"),
        ("rap\x00port\n\r\t.txt", "rapport.txt"),
        ("facture\u202egpj.exe", "facturegpj.exe"),
        ("  ...cache.txt.  ", "cache.txt"),
        ('a<b>c:"d"|e?*.txt', "a_b_c__d__e__.txt"),
        ("../..", "fichier"),
        ("", "fichier"),
        ("/.png", "png"),
    ],
)
def test_sanitize_filename(given, expected):
    assert uploads.sanitize_filename(given) == expected


def test_long_names_are_cut_but_keep_their_extension():
    name = uploads.sanitize_filename("é" * 300 + ".pdf")
    assert len(name) == 200 and name.endswith("é.pdf")


def test_traversal_name_is_only_a_display_name(tmp_path):
    stored = store(tmp_path, "../../etc/passwd.txt", b"root:x:0:0\n")
    assert stored.filename == "passwd.txt" and KEY.match(stored.storage_key)
    assert files_under(tmp_path / "uploads") == [stored.storage_key]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uploads"]


def test_control_characters_are_removed_from_the_name(tmp_path):
    stored = store(tmp_path, "note\x00\x1b[2J\u202e.txt", b"hello\n")
    assert stored.filename == "note[2J.txt"


@pytest.mark.parametrize("key", ["../outside.txt", "ab/../../outside.txt", "/etc/passwd", "", "ab\\..\\..\\x", "ab/\x00", ".", "ab/.."])
def test_keys_escaping_the_root_are_refused(tmp_path, key):
    (tmp_path / "outside.txt").write_text("secret")
    root = tmp_path / "uploads"
    root.mkdir()
    with pytest.raises(ValueError):
        open_stored(root, key)
    with pytest.raises(ValueError):
        delete_stored(root, key)
    assert (tmp_path / "outside.txt").exists()


def test_symlink_out_of_the_root_is_refused(tmp_path):
    root = tmp_path / "uploads"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(ValueError):
        open_stored(root, "link")


def test_delete_stored_removes_the_file_and_tolerates_a_second_call(tmp_path):
    stored = store(tmp_path, "photo.png", image_bytes("PNG"))
    for key in (stored.storage_key, stored.preview_key):
        delete_stored(tmp_path / "uploads", key)
        delete_stored(tmp_path / "uploads", key)
    assert files_under(tmp_path / "uploads") == []
    with pytest.raises(FileNotFoundError):
        open_stored(tmp_path / "uploads", stored.storage_key)


def test_two_uploads_of_the_same_file_get_different_keys(tmp_path):
    first, second = store(tmp_path, "a.pdf", PDF), store(tmp_path, "a.pdf", PDF)
    assert first.storage_key != second.storage_key and first.sha256 == second.sha256


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(uploads.os, "replace", broken_replace)
    with pytest.raises(OSError):
        store(tmp_path, "photo.png", image_bytes("PNG"))
    assert files_under(tmp_path / "uploads") == []


def test_a_failed_preview_write_removes_the_original(tmp_path, monkeypatch):
    real_replace, calls = os.replace, []

    def replace_once(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(uploads.os, "replace", replace_once)
    with pytest.raises(OSError):
        store(tmp_path, "photo.png", image_bytes("PNG"))
    assert len(calls) == 2 and files_under(tmp_path / "uploads") == []


def test_inspect_upload_returns_data_type_and_image_info():
    data = image_bytes("GIF", size=(20, 10))
    got, content_type, info = inspect_upload("x.gif", io.BytesIO(data), max_bytes=LIMIT)
    assert (got, content_type) == (data, "image/gif")
    assert (info["format"], info["width"], info["height"]) == ("GIF", 20, 10)
    assert inspect_upload("x.pdf", io.BytesIO(PDF), max_bytes=LIMIT)[1:] == ("application/pdf", {})
