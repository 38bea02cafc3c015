"""Is a client's reply only a thank-you? « Merci, c'est confirmé » to a resolved ticket closes
the conversation rather than reopening it (T5, T11).

The rule is deliberately narrow: no attachment, no question mark, short, and once greetings
and the signature are set aside, every word comes from a small vocabulary of thanks and
confirmation in French and English, with at least one word that thanks or confirms. Anything
else (« Merci, mais ça ne marche toujours pas », « Merci ? ») is a real reply and reopens.
THANKS_KEEP_RESOLVED=False turns the rule off.
"""
import re

from flask import current_app

from app.services.search import normalise

MAX_CHARS = 280  # of the message without its greeting and signature
MAX_WORDS = 20

# A reply must carry one of these …
_THANKING = frozenset(
    """merci mercis remercie remercions remerciements thanks thank thx ty confirme confirmee confirmons
    confirmed confirm ok okay parfait parfaitement super top nickel impeccable excellent genial
    resolu resolue regle reglee fonctionne fonctionnent marche marchent works worked working fixed
    solved resolved great perfect appreciated cheers""".split()
)
# … and may carry only these around it.
_ALLOWED = _THANKING | frozenset(
    """beaucoup bien tres infiniment mille fois pour votre vos ton ta tes aide retour reponse rapide
    rapidite reactivite intervention travail support equipe c ca cela ceci est c'est tout toute tous
    le la les l un une du de des et effectivement bonne journee soiree semaine fin a vous toi nous je
    j ai avons maintenant desormais bon alors donc oui encore probleme souci incident ticket demande
    is it its it's this that all now good very much so a lot many for your the help quick reply
    support team again indeed yes everything fine i we have has been issue problem request and you
    have nice day""".split()
)
_GREETING = re.compile(r"^(bonjour|bonsoir|salut|hello|hi|dear|cher|chere|madame|monsieur|good (morning|afternoon|evening))\b")
_SIGN_OFF = re.compile(
    r"^(cordialement|bien cordialement|tres cordialement|bien a vous|salutations|sinceres salutations|"
    r"meilleures salutations|regards|best regards|kind regards|best|sincerely|yours|--|envoye de mon|sent from my)\b"
)
_GREETING_WITH_NAME = re.compile(r"^(bonjour|bonsoir|salut|hello|hi|dear)( [a-z-]+){0,2} ?, ?")
_QUOTE_INTRO = re.compile(r"^(le .* a ecrit|on .* wrote)\b")
_WORDS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def enabled():
    return bool(current_app.config.get("THANKS_KEEP_RESOLVED", True))


def _meaningful_lines(body):
    lines = [normalise(line.replace("\u2019", "'")).strip(" \t,;:-–—") for line in (body or "").replace("\r", "").split("\n")]
    kept = []
    for line in lines:
        if _SIGN_OFF.match(line) or _QUOTE_INTRO.match(line) or line.startswith((">", "--")):
            break  # everything below a sign-off is the signature
        if not line:
            continue
        if not kept and _GREETING.match(line) and len(line.split()) <= 4:
            continue  # « Bonjour Fatou, » on its own line
        kept.append(line)
    return kept


def only_thanks(body, has_attachment=False):
    """True when `body` only thanks or confirms (see the module's rule)."""
    if has_attachment or "?" in (body or ""):
        return False
    text = " ".join(_meaningful_lines(body))
    text = _GREETING_WITH_NAME.sub("", text).strip(" ,;:")
    if not text or len(text) > MAX_CHARS:
        return False
    words = [w for part in _WORDS.findall(text) for w in part.replace("'", " ").split()]
    if not words or len(words) > MAX_WORDS:
        return False
    return all(w in _ALLOWED for w in words) and any(w in _THANKING for w in words)


def keeps_resolved(body, has_attachment=False):
    """Whether a client's reply leaves a resolved (or closed) ticket as it is."""
    return enabled() and only_thanks(body, has_attachment)
