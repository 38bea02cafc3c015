"""Re-encrypting every stored secret with the first key of NOVADESK_ENCRYPTION_KEYS."""
from sqlalchemy import text

from app.extensions import db
from app.security.encryption import ENCRYPTED_COLUMNS, rotate


def rotate_all():
    """Every encrypted value is read with any configured key and written again with the first.
    Counts per column; raises SecretUnreadable (nothing written) when a value opens with no key."""
    changes, counts = [], {}
    for table, column in ENCRYPTED_COLUMNS:
        rows = db.session.execute(text(f'SELECT id, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')).fetchall()
        changes += [(table, column, row_id, rotate(value)) for row_id, value in rows]  # all read before any write
        counts[f"{table}.{column}"] = len(rows)
    for table, column, row_id, token in changes:
        db.session.execute(text(f'UPDATE "{table}" SET "{column}" = :token WHERE id = :id'), {"token": token, "id": row_id})
    db.session.flush()
    return counts
