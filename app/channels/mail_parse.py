"""Reading one raw e-mail into what the intake needs, without ever raising on bad input.

Real mail is messy: unknown charsets, 8-bit bytes in headers, broken MIME, HTML only, quoted
history in every language. Each accessor here falls back rather than fails; the raw message
is kept anyway, so a poor reading loses nothing.
"""
import email
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.utils import getaddresses, parseaddr

from bs4 import BeautifulSoup
from flask import current_app
from mailparser_reply import EmailReplyParser

from app.services import tickets

# Lines our own notifications put above the message (app/services/mail.py REPLY_MARKER).
_MARKER = re.compile(r"^.*##-.*-##.*$", re.MULTILINE)
_QUOTE_HEADER = re.compile(r"^\s*(>\s*)?(le .{5,200} a écrit|on .{5,200} wrote|de\s?: .{3,200}|from: .{3,200})\s*:?\s*$", re.IGNORECASE)
_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_AUTO_SUBJECT = re.compile(
    r"^\s*(réponse automatique|automatic reply|auto[- ]?reply|out of (the )?office|absence|absent|autoreply|abwesenheit)\b",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon)@", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver|delivery status notification|delivery (has )?failed|returned mail|non remis|échec de (la )?remise|mail delivery failed)",
    re.IGNORECASE,
)
_reply_parser = EmailReplyParser(languages=["fr", "en"])
_CONTROL = tickets.CONTROL_CHARACTERS


@dataclass
class MailFile:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass
class ParsedMail:
    message_id: str | None
    message_key: str
    sender: str | None  # lower-cased address
    sender_name: str
    subject: str
    in_reply_to: list = field(default_factory=list)
    references: list = field(default_factory=list)
    text: str = ""  # the whole readable text
    reply: str = ""  # the new part only: quoted history and signature trimmed
    files: list = field(default_factory=list)
    noise: str | None = None  # own_mail, bounce, auto_reply, list, receipt
    forged: bool = False  # the receiving server found the sender's domain authentication failing
    authenticated: bool = False  # our trusted mail server vouched for the From domain (DMARC or DKIM pass)
    bounce_recipients: list = field(default_factory=list)
    bounce_message_ids: list = field(default_factory=list)
    bounce_reason: str = ""
    headers: dict = field(default_factory=dict)  # lower-cased name: cleaned value (first one)

    @property
    def thread_ids(self):
        return list(dict.fromkeys(self.in_reply_to + self.references))


def clean_text(value):
    """A str safe for the database: 8-bit bytes smuggled in as surrogates decoded properly,
    NUL characters dropped."""
    if value is None:
        return ""
    value = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        raw = value.encode("utf-8", "surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("cp1252", "replace")
    return _CONTROL.sub("", value)


def _raw_header(message, name):
    try:
        return next((v for k, v in message.raw_items() if k.lower() == name), None)
    except Exception:
        return None


def _header(message, name):
    raw = _raw_header(message, name)
    if raw is None:
        return ""
    if isinstance(raw, str) and any("\udc80" <= ch <= "\udcff" for ch in raw):
        value = clean_text(raw)  # 8-bit header: decoded here, the policy would only mask it
    else:
        try:
            value = clean_text(message.get(name))
        except Exception:  # a header the parser cannot read: take its raw form
            value = clean_text(raw)
    if "=?" in value:  # encoded words the policy left alone (e.g. on a defective header)
        try:
            value = clean_text(str(make_header(decode_header(value))))
        except Exception:
            pass
    return " ".join(value.split())


def _decode_payload(part):
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        payload = part.get_payload()
        return clean_text(payload) if isinstance(payload, str) else ""
    for charset in (part.get_content_charset(), "utf-8", "cp1252"):
        if not charset:
            continue
        try:
            return clean_text(data.decode(charset))
        except (LookupError, UnicodeDecodeError):
            continue
    return clean_text(data.decode("utf-8", "replace"))


def html_to_text(html):
    """Readable text from an HTML body; quoted history blocks of common clients dropped
    from the reply, kept in the full text. Nothing of the HTML survives: no markup, no script."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title", "meta", "noscript"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(["p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote", "table"]):
        block.insert_before("\n")
        block.insert_after("\n")
    text = soup.get_text()
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", "\n".join(line.rstrip() for line in text.splitlines())).strip()


def _html_reply(html):
    soup = BeautifulSoup(html, "html.parser")
    for selector in ["div.gmail_quote", "blockquote", "div#divRplyFwdMsg", "div#appendonsend", "div.moz-cite-prefix", "div.yahoo_quoted"]:
        for node in soup.select(selector):
            # Outlook puts the history after its divider: drop what follows it too
            if node.get("id") in ("divRplyFwdMsg", "appendonsend"):
                for sibling in list(node.find_next_siblings()):
                    sibling.decompose()
            node.decompose()
    return html_to_text(str(soup))


def trim_reply(text):
    """The new part of a reply: cut at our marker, then quoted history and signature."""
    marker = _MARKER.search(text)
    if marker:
        text = text[: marker.start()]
        lines = text.rstrip().splitlines()
        while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">") or _QUOTE_HEADER.match(lines[-1])):
            lines.pop()
        text = "\n".join(lines)
    try:
        parsed = _reply_parser.read(text)
        first = parsed.replies[0] if parsed.replies else None
        trimmed = (first.body if first is not None and first.body.strip() else parsed.latest_reply) or ""
    except Exception:  # the trimmer is a comfort, never a reason to lose the text
        trimmed = text
    return trimmed.strip() or text.strip()


def _attachment_name(part, index):
    try:
        name = part.get_filename()
    except Exception:
        name = None
    name = clean_text(name).strip()
    if name and "=?" in name:
        try:
            name = str(make_header(decode_header(name)))
        except Exception:
            pass
    if not name:
        subtype = (part.get_content_subtype() or "bin").split("+")[0]
        name = f"piece-jointe-{index}.{ {'jpeg': 'jpg', 'plain': 'txt'}.get(subtype, subtype) }"
    return name.replace("/", "_").replace("\\", "_")[:200]


def _walk(message, out, depth=0):
    """Collect text parts, HTML parts and files; forwarded messages are read as text."""
    if depth > 20:
        return
    try:
        content_type = message.get_content_type()
    except Exception:
        content_type = "text/plain"
    if content_type in ("message/delivery-status", "message/disposition-notification"):
        out["report"].append(_report_text(message))
        return
    if message.is_multipart():
        try:
            parts = message.get_payload()
        except Exception:
            parts = []
        if content_type == "message/rfc822":
            for inner in parts if isinstance(parts, list) else [parts]:
                out["forwarded"].append(inner)
            return
        for part in parts if isinstance(parts, list) else []:
            _walk(part, out, depth + 1)
        return
    disposition = (message.get_content_disposition() or "").lower() if hasattr(message, "get_content_disposition") else ""
    has_name = bool(message.get_param("name") or message.get_param("filename", header="content-disposition"))
    if content_type in ("text/plain", "text/html") and disposition != "attachment" and not has_name:
        out["html" if content_type == "text/html" else "plain"].append(_decode_payload(message))
        return
    if content_type == "text/rfc822-headers":
        out["report"].append(_decode_payload(message))
        return
    try:
        data = message.get_payload(decode=True) or b""
    except Exception:
        data = b""
    index = len(out["files"]) + 1
    inline = disposition == "inline" or bool(message.get("Content-ID"))
    out["files"].append(MailFile(_attachment_name(message, index), content_type, data, inline))


def _report_text(message):
    """A delivery report's fields (the parser reads each block as a headers-only message)."""
    try:
        payload = message.get_payload()
        if isinstance(payload, list):
            return "\n".join(clean_text(block.as_string(policy=policy.compat32)) for block in payload)
    except Exception:
        pass
    return _decode_payload(message)


def _addresses(value):
    return [clean_text(addr).strip().lower() for _, addr in getaddresses([value]) if "@" in (addr or "")]


def _ids(value):
    return _MSGID.findall(value or "")


def message_key(message_id, raw):
    basis = message_id.strip() if message_id else hashlib.sha256(raw).hexdigest()
    return hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()


def sender_authenticated(message, sender, trusted_authserv_id):
    """Did our own mail server (its authserv-id) vouch for the From domain? RFC 8601 results
    `dmarc=pass` with header.from, or `dkim=pass` with header.d (or header.i) of that domain.
    Results stamped by any other authserv-id are anyone's words and are ignored."""
    if not sender or not trusted_authserv_id or "@" not in sender:
        return False
    import authres

    domain = sender.rsplit("@", 1)[1].lower()
    for value in message.get_all("Authentication-Results") or []:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(clean_text(str(value)).replace("\r", " ").replace("\n", " "))
        except Exception:  # unreadable: vouches for nothing
            continue
        if (header.authserv_id or "").lower() != trusted_authserv_id.lower():
            continue
        for result in header.results:
            if (result.result or "").lower() != "pass":
                continue
            found = {(p.type.lower(), p.name.lower()): (p.value or "").lower() for p in result.properties}
            method = (result.method or "").lower()
            if method == "dmarc" and found.get(("header", "from")) == domain:
                return True
            if method == "dkim" and (found.get(("header", "d")) == domain or found.get(("header", "i"), "").endswith("@" + domain)):
                return True
    return False


def parse(raw, own_addresses=(), own_domain=""):
    """Read raw bytes into a ParsedMail. `own_addresses` are NovaDesk's sending and mailbox
    addresses: mail from them is NovaDesk talking to itself."""
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
    except Exception:  # beyond repair: the raw bytes are still kept by the caller
        message = email.message_from_string(raw.decode("utf-8", "replace"), policy=policy.compat32)
    headers = {}
    for name in ("message-id", "from", "reply-to", "sender", "subject", "in-reply-to", "references", "auto-submitted", "x-autoreply", "x-autorespond", "x-loop", "precedence", "list-id", "list-unsubscribe", "return-path", "x-novadesk-outbox", "content-type", "x-auto-response-suppress", "authentication-results"):
        headers[name] = _header(message, name)
    ids = _ids(headers["message-id"])
    message_id = ids[0] if ids else (headers["message-id"][:900] or None)
    name, address = parseaddr(headers["from"] or headers["sender"])
    sender = address.strip().lower() if "@" in (address or "") else None
    parsed = ParsedMail(
        message_id=message_id,
        message_key=message_key(message_id, raw),
        sender=sender[:320] if sender else None,
        sender_name=clean_text(name).strip()[:200],
        subject=headers["subject"][:300],
        in_reply_to=_ids(headers["in-reply-to"]),
        references=_ids(headers["references"]),
        headers=headers,
    )
    out = {"plain": [], "html": [], "files": [], "report": [], "forwarded": []}
    try:
        _walk(message, out)
    except Exception:
        out["plain"].append(clean_text(raw.decode("utf-8", "replace")))
    plain = "\n\n".join(p for p in out["plain"] if p.strip())
    html = "\n".join(out["html"])
    if plain.strip():
        parsed.text = plain.strip()
        parsed.reply = trim_reply(plain)
    elif html.strip():
        parsed.text = html_to_text(html)
        parsed.reply = trim_reply(_html_reply(html))
    for inner in out["forwarded"]:
        forwarded = parse(inner.as_bytes() if hasattr(inner, "as_bytes") else bytes(inner), own_addresses, own_domain)
        block = f"---------- Message transféré ----------\nDe : {forwarded.sender_name} <{forwarded.sender or ''}>\nObjet : {forwarded.subject}\n\n{forwarded.text}"
        parsed.text = f"{parsed.text}\n\n{block}".strip()
        parsed.reply = f"{parsed.reply}\n\n{block}".strip()
        parsed.files.extend(forwarded.files)
    parsed.files = out["files"] + parsed.files
    parsed.noise = _noise(parsed, headers, own_addresses, own_domain)
    # Our own mail server's verdict (RFC 8601): a failing DMARC means the From is not to be believed.
    # A failing verdict is believed from any header (it can only lower trust); a passing one
    # only from our own server's.
    parsed.forged = bool(re.search(r"\bdmarc=fail\b", headers["authentication-results"], re.IGNORECASE))
    parsed.authenticated = not parsed.forged and sender_authenticated(message, parsed.sender, current_app.config.get("MAIL_TRUSTED_AUTHSERV_ID", ""))
    if parsed.noise == "bounce":
        _read_bounce(parsed, "\n".join(out["report"]) + "\n" + plain, out["forwarded"])
    return parsed


def _noise(parsed, headers, own_addresses, own_domain):
    """Why this mail must never get an automatic answer, or None for a person's message."""
    own = {a.lower() for a in own_addresses if a}
    if headers["x-novadesk-outbox"] or (own_domain and f"novadesk@{own_domain}" in headers["x-loop"].lower()) or (parsed.sender and parsed.sender in own):
        return "own_mail"
    content_type = headers["content-type"].lower()
    if "multipart/report" in content_type and "disposition-notification" in content_type:
        return "receipt"
    if "multipart/report" in content_type or (parsed.sender and _BOUNCE_SENDER.match(parsed.sender)) or (
        headers["return-path"].strip() in ("<>", "") and _BOUNCE_SUBJECT.search(parsed.subject)
    ):
        return "bounce"
    auto = headers["auto-submitted"].lower()
    if (auto and auto != "no") or headers["x-autoreply"] or headers["x-autorespond"] or _AUTO_SUBJECT.match(parsed.subject):
        return "auto_reply"
    precedence = headers["precedence"].lower()
    if precedence in ("auto_reply", "auto-reply"):
        return "auto_reply"
    if precedence in ("bulk", "junk", "list") or headers["list-id"] or headers["list-unsubscribe"]:
        return "list"
    if headers["return-path"].strip() == "<>":
        return "auto_reply"  # a null sender is a robot by definition
    return None


def _read_bounce(parsed, report, forwarded):
    parsed.bounce_recipients = list(
        dict.fromkeys(
            a.lower() for a in re.findall(r"(?:Final|Original)-Recipient:\s*rfc822;\s*<?([^\s<>]+@[^\s<>]+)>?", report, re.IGNORECASE)
        )
    )
    codes = re.findall(r"Diagnostic-Code:\s*[^;\n]*;\s*(.+)", report, re.IGNORECASE)
    status = re.findall(r"^Status:\s*([245]\.\d+\.\d+)", report, re.IGNORECASE | re.MULTILINE)
    parsed.bounce_reason = clean_text((codes[0] if codes else "") or (status[0] if status else "")).strip()[:400]
    ids = _MSGID.findall("\n".join(re.findall(r"^Message-ID:.*$", report, re.IGNORECASE | re.MULTILINE)))
    for inner in forwarded:
        ids += _ids(_header(inner, "message-id"))
        if not parsed.bounce_recipients:
            parsed.bounce_recipients = _addresses(_header(inner, "to"))
    parsed.bounce_message_ids = list(dict.fromkeys(ids))
