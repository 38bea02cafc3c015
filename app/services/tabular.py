"""Reading the CSV and XLSX files people export from other software: any of the usual
encodings (UTF-8 with or without BOM, Windows-1252), `;` or `,` between fields, headers in
French or English. Rows come back as dicts keyed by normalised header, with their line number."""
import csv
import io
import unicodedata

from flask_babel import gettext as _

from app.services import ServiceError

MAX_ROWS = 200_000


def normalise_header(value):
    text = unicodedata.normalize("NFKD", str(value or "")).encode("ascii", "ignore").decode()
    return "_".join(text.strip().lower().replace("-", " ").replace("'", " ").split())


def decode(data):
    """UTF-8 (a BOM is dropped) when the bytes are valid UTF-8, else Windows-1252, which
    accepts any byte: what Excel and FileMaker write on a French Windows."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(first_line):
    return ";" if first_line.count(";") >= first_line.count(",") and ";" in first_line else ","


def read_csv(data):
    text = decode(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    return _rows(reader)


def read_xlsx(data):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise ServiceError(_("Ce fichier n'est pas un classeur Excel (XLSX) lisible."))
    try:
        sheet = workbook.worksheets[0]
        return _rows(([_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)))
    finally:
        workbook.close()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _rows(reader):
    rows = []
    header = None
    for line_number, values in enumerate(reader, start=1):
        if header is None:
            header = [normalise_header(v) for v in values]
            if not any(header):
                header = None
                continue
            continue
        if not any((v or "").strip() for v in values):
            continue  # blank lines in the middle or at the end of a file
        row = {name: (values[i].strip() if i < len(values) and values[i] is not None else "") for i, name in enumerate(header) if name}
        rows.append((line_number, row))
        if len(rows) > MAX_ROWS:
            raise ServiceError(_("Fichier trop long : %(n)s lignes au plus.", n=MAX_ROWS))
    if header is None:
        raise ServiceError(_("Le fichier est vide : la première ligne doit nommer les colonnes."))
    return rows


def read_table(filename, data):
    """The rows of a CSV or XLSX file, chosen by its content (XLSX is a ZIP)."""
    if data[:2] == b"PK":
        return read_xlsx(data)
    if (filename or "").lower().endswith((".xlsx", ".xlsm")):
        raise ServiceError(_("Ce fichier n'est pas un classeur Excel (XLSX) lisible."))
    if b"\x00" in data[:4096]:
        raise ServiceError(_("Format non reconnu : envoyez un fichier CSV ou XLSX."))
    return read_csv(data)


def pick(row, *names):
    """The first non-empty value among a column's accepted names."""
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return value
    return ""
