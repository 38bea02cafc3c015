"""Validate and store files attached to tickets (later chat messages and knowledge-base articles).

Pure functions: settings come in as arguments, nothing reads the request or the app config.
The type is decided from the bytes, never from the name or the browser's header; the name only
has to agree with it. Originals are kept byte for byte; image previews are separate files.
"""
import contextlib
import hashlib
import io
import os
import re
import tempfile
import unicodedata
import uuid
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps

from app.services import ServiceError

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 25 * MB
DEFAULT_MAX_PIXELS = 50_000_000
PREVIEW_SIZE = 480
FILENAME_MAX = 200

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
OFFICE_TYPES = {
    ".docx": ("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".xlsx": ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".pptx": ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}
OPENDOCUMENT_TYPES = {".odt": "application/vnd.oasis.opendocument.text", ".ods": "application/vnd.oasis.opendocument.spreadsheet"}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
TEXT_EXTENSIONS = {".txt": "text/plain", ".log": "text/plain", ".csv": "text/csv"}
ALLOWED_EXTENSIONS = IMAGE_EXTENSIONS | {".pdf", ".zip"} | set(TEXT_EXTENSIONS) | set(OFFICE_TYPES) | set(OPENDOCUMENT_TYPES)

MAGIC = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"), (b"%PDF-", "pdf"), (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"))
# Content refused whatever the name: programs, and markup a browser could run (HTML, SVG).
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"#!", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
MARKUP_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml", b"<iframe", b"<!--")
# Text may hold tabs, line ends, form feeds, DOS EOF and ANSI colours (logs); other control bytes mean binary.
BINARY_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0e-\x19\x1c-\x1f]")


class UploadRefused(ServiceError):
    """A file refused; `message` is a French sentence naming it, `reason` a short code for callers and tests."""

    def __init__(self, message, *, filename, reason):
        super().__init__(message, {"file": reason})
        self.filename = filename
        self.reason = reason


@dataclass(frozen=True)
class StoredFile:
    filename: str  # display name only (sanitize_filename); never used on disk
    content_type: str  # from the content
    size: int
    sha256: str
    storage_key: str  # "ab/cd/<uuid4 hex>" under the upload root
    is_image: bool
    width: int | None
    height: int | None
    preview_key: str | None  # "<storage_key>.preview.png|.jpg" for images


FILE_COLUMNS = ("filename", "content_type", "size", "sha256", "storage_key", "preview_key", "is_image", "width", "height")


def file_columns(stored) -> dict:
    """What a table of stored files (ticket attachments, chat files) records of one."""
    return {name: getattr(stored, name) for name in FILE_COLUMNS}


def sanitize_filename(filename) -> str:
    """The display name: last path part only, no control or format characters, at most 200 characters, extension kept."""
    name = unicodedata.normalize("NFC", str(filename or "")).replace("\\", "/").rsplit("/", 1)[-1]
    # Cc/Cf/… include NUL, newlines and the right-to-left override used to disguise "exe.png" names.
    name = "".join("_" if ch in '<>:"|?*' else ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(name.split()).strip(" .")  # leading dots hide files, trailing ones vanish on Windows
    stem, ext = os.path.splitext(name)
    if len(ext) > 16:
        stem, ext = name, ""
    if len(name) > FILENAME_MAX:
        name = stem[: FILENAME_MAX - len(ext)].rstrip(" .") + ext
    return name if stem else "fichier" + ext


def _refuse(reason, name, limit=None):
    if reason == "too_large":
        message = _("Le fichier « %(name)s » dépasse la taille maximale de %(limit)s.", name=name, limit=limit)
    elif reason == "empty":
        message = _("Le fichier « %(name)s » est vide.", name=name)
    elif reason == "type_mismatch":
        message = _("Le contenu du fichier « %(name)s » ne correspond pas à son extension.", name=name)
    elif reason == "corrupt_image":
        message = _("L'image « %(name)s » est endommagée ou incomplète.", name=name)
    elif reason == "image_too_large":
        message = _("L'image « %(name)s » a trop de pixels (%(limit)s millions au plus).", name=name, limit=limit)
    else:
        message = _(
            "Le fichier « %(name)s » n'est pas d'un type accepté (images PNG, JPEG, GIF ou WebP, PDF, texte, CSV, "
            "documents Office ou OpenDocument, archives ZIP).",
            name=name,
        )
    return UploadRefused(message, filename=name, reason=reason)


def _human_size(n):
    if n >= MB:
        return f"{n / MB:.1f}".removesuffix(".0").replace(".", ",") + " Mo"
    return f"{max(1, n // 1024)} ko" if n >= 1024 else f"{n} octets"


def _read_capped(stream, max_bytes):
    """At most max_bytes + 1 bytes: enough to know a file is too big without reading all of it."""
    chunks, total = [], 0
    while total <= max_bytes:
        chunk = stream.read(min(1024 * 1024, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _sniff(data):
    """The family the bytes belong to, from their magic numbers; None for anything unrecognised (maybe text)."""
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith(EXECUTABLE_MAGIC):
        return "refused"
    head = data[:512].removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if head.startswith(MARKUP_STARTS):
        return "refused"
    return None


def _text_charset(data):
    """'utf-8' or 'iso-8859-1' for text, None for binary: no NUL, and no control bytes besides whitespace."""
    # C0 bytes never occur inside UTF-8 sequences, so one byte-level search serves both encodings.
    if BINARY_CONTROLS.search(data):
        return None
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "iso-8859-1"  # every byte is a Latin-1 character


@contextlib.contextmanager
def _bomb_guard():
    # Pillow only warns between its global limit and twice it; make that warning a refusal too.
    # (Our own max_pixels check comes first, so a global limit changed elsewhere never loosens ours.)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _check_image(data, fmt, name, max_pixels):
    """Decode fully: verify() catches bad chunks and CRCs, load() catches truncation; returns size and format.

    Truncated JPEG and GIF files are caught only while Pillow's ImageFile.LOAD_TRUNCATED_IMAGES keeps its default (False).
    """
    millions = f"{max_pixels / 1_000_000:g}".replace(".", ",")
    try:
        with _bomb_guard():
            with Image.open(io.BytesIO(data), formats=[fmt]) as im:
                width, height = im.size
                if width * height > max_pixels:  # checked from the header, before any pixel is decoded
                    raise _refuse("image_too_large", name, limit=millions)
                im.verify()
            with Image.open(io.BytesIO(data), formats=[fmt]) as im:
                im.load()
                return {"format": fmt, "width": width, "height": height, "mode": im.mode, "animated": getattr(im, "is_animated", False)}
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse("image_too_large", name, limit=millions) from None
    except Exception:  # Pillow raises OSError, SyntaxError, ValueError, struct.error… on broken files
        raise _refuse("corrupt_image", name) from None


def _check_archive(data, ext, name):
    """Look at the ZIP directory only (nothing is extracted, so zip bombs do not matter); returns the content type."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if ext == ".zip":
                return "application/zip"
            if ext in OFFICE_TYPES:
                folder, content_type = OFFICE_TYPES[ext]
                if any(n.lower().endswith("vbaproject.bin") for n in names):
                    raise _refuse("type_refused", name)  # macros: a .docm/.xlsm renamed
                if "[Content_Types].xml" in names and any(n.startswith(folder) for n in names):
                    return content_type
                raise _refuse("type_mismatch", name)
            info = archive.getinfo("mimetype") if "mimetype" in names else None
            if info is not None and info.file_size < 100 and archive.read(info).strip() == OPENDOCUMENT_TYPES[ext].encode():
                return OPENDOCUMENT_TYPES[ext]
            raise _refuse("type_mismatch", name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        raise _refuse("type_mismatch", name) from None


def inspect_upload(filename: str, stream: BinaryIO, *, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[bytes, str, dict]:
    """Read and validate one upload; returns (data, content_type, image_info) or raises UploadRefused.

    image_info is {} for other files, else format, width, height, mode and animated.
    """
    name = sanitize_filename(filename)
    data = _read_capped(stream, max_bytes)
    if len(data) > max_bytes:
        raise _refuse("too_large", name, limit=_human_size(max_bytes))
    if not data:
        raise _refuse("empty", name)
    ext = os.path.splitext(name)[1].lower()
    kind = _sniff(data)
    if kind == "refused" or ext not in ALLOWED_EXTENSIONS:
        raise _refuse("type_refused", name)
    if ext in IMAGE_EXTENSIONS:
        # Any allowed image under any image extension: a PNG saved as .jpg is common and harmless.
        if kind not in IMAGE_TYPES:
            raise _refuse("type_mismatch", name)
        return data, IMAGE_TYPES[kind], _check_image(data, kind, name, max_pixels)
    if kind in IMAGE_TYPES:
        raise _refuse("type_mismatch", name)
    if ext == ".pdf":
        if kind != "pdf":
            raise _refuse("type_mismatch", name)
        return data, "application/pdf", {}
    if ext in TEXT_EXTENSIONS:
        charset = _text_charset(data) if kind is None else None
        if charset is None:
            raise _refuse("type_mismatch", name)
        return data, f"{TEXT_EXTENSIONS[ext]}; charset={charset}", {}
    if kind != "zip":
        raise _refuse("type_mismatch", name)
    return data, _check_archive(data, ext, name), {}


def _make_preview(data, fmt):
    """A small PNG (transparency) or JPEG (quality 80), upright per EXIF; returns (bytes, extension)."""
    with _bomb_guard(), Image.open(io.BytesIO(data), formats=[fmt]) as im:
        alpha = im.has_transparency_data
        if im.mode not in ("RGB", "RGBA", "L", "LA"):
            im = im.convert("RGBA" if alpha else "RGB")  # palettes and CMYK would resize badly
        im.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))  # draft mode makes big JPEGs cheap here
        try:
            im = ImageOps.exif_transpose(im)
        except Exception:  # broken EXIF: an unrotated preview beats refusing a good photo
            pass
        out = io.BytesIO()
        if alpha:
            im.convert("RGBA").save(out, "PNG", optimize=True)
            return out.getvalue(), ".png"
        im.convert("RGB").save(out, "JPEG", quality=80)
        return out.getvalue(), ".jpg"


def _safe_path(root, storage_key) -> Path:
    """root/storage_key, refusing absolute keys, '..' and anything resolving outside root (symlinks included)."""
    key = str(storage_key or "")
    parts = PurePosixPath(key).parts
    if not key or "\\" in key or "\x00" in key or key.startswith("/") or ".." in parts or os.path.isabs(key):
        raise ValueError(f"invalid storage key: {key!r}")
    base = Path(root).resolve()
    path = (base / key).resolve()
    if path == base or not path.is_relative_to(base):
        raise ValueError(f"invalid storage key: {key!r}")
    return path


def _write_atomic(path: Path, data: bytes):
    # Write beside the target then rename: a crash leaves at most a ".tmp-" file, never half a file under the key.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def store_upload(root: str | Path, filename: str, stream: BinaryIO, *, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> StoredFile:
    """Validate, then write the original (unchanged) and, for images, its preview under root."""
    data, content_type, image = inspect_upload(filename, stream, max_bytes=max_bytes, max_pixels=max_pixels)
    token = uuid.uuid4().hex
    key = f"{token[:2]}/{token[2:4]}/{token}"  # random, so a user's name never reaches the file system
    preview = None
    if image:  # made before anything is written, so a failure leaves nothing behind
        try:
            preview = _make_preview(data, image["format"])
        except Exception:
            raise _refuse("corrupt_image", sanitize_filename(filename)) from None
    _write_atomic(_safe_path(root, key), data)
    preview_key = None
    if preview:
        preview_key = key + ".preview" + preview[1]
        try:
            _write_atomic(_safe_path(root, preview_key), preview[0])
        except BaseException:
            delete_stored(root, key)
            raise
    return StoredFile(
        filename=sanitize_filename(filename),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        is_image=bool(image),
        width=image.get("width"),
        height=image.get("height"),
        preview_key=preview_key,
    )


def open_stored(root: str | Path, storage_key: str) -> BinaryIO:
    """The stored file opened for reading; ValueError for a key outside root, FileNotFoundError if gone."""
    return open(_safe_path(root, storage_key), "rb")


def delete_stored(root: str | Path, storage_key: str) -> None:
    """Remove one stored file (original or preview); a file already gone is not an error."""
    _safe_path(root, storage_key).unlink(missing_ok=True)


def remove_files_on_event(event):
    """Event sink: files whose rows were deleted go once that deletion is committed (an error
    before the commit leaves them in place)."""
    if event.kind == "files.removed":
        root = current_app.config["UPLOAD_FOLDER"]
        for key in event.payload["keys"]:
            delete_stored(root, key)
