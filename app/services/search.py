"""Full-text search of the knowledge base in French (K3), behind one interface.

Articles carry their search documents (`search_title`, `search_body`, `search_tags`): words
without accents, in lower case, without the commonest words, reduced to a light French stem
(plurals, feminines and the usual verb and noun endings), so that « rembourser »,
« remboursé » and « remboursements » meet. The database indexes these documents:
SQLite's FTS5 (ranked by bm25) on the embedded database, PostgreSQL's full text (French
configuration, GIN index, ts_rank_cd) when scaled out. Queries go through the same
normalisation. Every query is narrowed by app/security/scopes.py before it is ranked or
counted, so a hidden article never shows, not even as a number.
"""
import bisect
import difflib
import re
import time
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from markupsafe import Markup, escape
from sqlalchemy import Column, Integer, MetaData, Table, Text, func, literal_column
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import KbArticle, KbCategory
from app.security import scopes

_WORD = re.compile(r"[a-z0-9]+")
_WORD_ORIGINAL = re.compile(r"\w+", re.UNICODE)

STOPWORDS = frozenset(
    """a ai aie au aux avec c ca ce ces cet cette d dans de des du elle en et est etre il ils j je l la le les
    leur lui m ma mais me mes mon n ne ni nos notre nous on ou par pas pour qu que qui s sa se ses si son sont
    sur t ta te tes ton tu un une vos votre vous y comment quoi quel quelle quels quelles faire fait peut
    puis dois doit the and of to in is""".split()
)

# Longest first: the first ending that leaves a stem of three letters or more is removed.
_ENDINGS = [
    ("issements", ""), ("issement", ""), ("ements", ""), ("ement", ""), ("ations", ""), ("ation", ""),
    ("atrices", ""), ("atrice", ""), ("ateurs", ""), ("ateur", ""), ("euses", ""), ("euse", ""),
    ("ances", ""), ("ance", ""), ("ences", ""), ("ence", ""), ("ites", ""), ("ite", ""),
    ("iques", ""), ("ique", ""), ("ables", ""), ("able", ""),
    ("eaux", "eau"), ("aux", "al"), ("eux", "eu"), ("ees", ""), ("ee", ""), ("ez", ""), ("er", ""),
    ("es", ""), ("e", ""), ("s", ""), ("x", ""),
]


def normalise(value):
    """Lower case, accents and ligatures removed: « Échéance » → « echeance »."""
    value = unicodedata.normalize("NFKD", (value or "").replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae"))
    return "".join(c for c in value if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=65536)
def stem(word):
    """A light French stemmer: enough for plurals, feminines and the common word forms."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("s") and len(word) > 4 and not word.endswith("ss"):
        word = word[:-1]
    for ending, replacement in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: len(word) - len(ending)] + replacement
    return word


def terms(value):
    """The stems of a text's meaningful words, in order."""
    return [stem(w) for w in _WORD.findall(normalise(value)) if w not in STOPWORDS]


def document(value):
    return " ".join(terms(value))


_MARKDOWN_LINKS = re.compile(r"!\[[^\]]*\]\([^)]*\)|\]\([^)]*\)|<[^>]+>|^\s*(#+|>|[-*+]|\d+\.)\s", re.MULTILINE)
_MARKDOWN_MARKS = re.compile(r"[*_`~|\[\]]+")


def plain_text(markdown):
    """An article's Markdown as readable text (for snippets and the search document)."""
    text = _MARKDOWN_MARKS.sub("", _MARKDOWN_LINKS.sub(" ", markdown or ""))
    return re.sub(r"\s+", " ", text).strip()


def prepare(article):
    """Fill the article's search documents; the database index follows (triggers or GIN)."""
    article.search_title = document(article.title)
    article.search_body = document(" ".join([article.summary or "", plain_text(article.body)]))
    article.search_tags = document(" ".join([article.tags or "", article.product.name if article.product else "", article.product_version or ""]))


# --- queries ----------------------------------------------------------------------------

_fts = Table("kb_article_fts", MetaData(), Column("rowid", Integer), Column("search_title", Text))
_PG_VECTOR = (
    "(setweight(to_tsvector('french', kb_article.search_title), 'A') || "
    "setweight(to_tsvector('french', kb_article.search_tags), 'B') || "
    "setweight(to_tsvector('french', kb_article.search_body), 'C'))"
)


@dataclass
class Hit:
    article: KbArticle
    snippet: Markup


@dataclass
class Results:
    query: str
    total: int = 0
    hits: list = field(default_factory=list)
    stems: list = field(default_factory=list)
    any_word: bool = False  # no article had every word: these have some of them
    capped: bool = False  # more matches than COUNT_CAP


def _query_stems(query):
    seen = []
    for t in terms(query):
        t = _loosen(t)
        if t not in seen:
            seen.append(t)
    return seen[:12]


def _loosen(query_stem):
    """A query's stem, loosened for prefix matching: a doubled final consonant is dropped, so
    « mensuelle » (mensuell*) also finds « mensuel », « annuelle » finds « annuel »."""
    if len(query_stem) > 4 and query_stem[-1] == query_stem[-2] and query_stem[-1] not in "aeiouy":
        return query_stem[:-1]
    return query_stem


def _dialect():
    return db.session.get_bind().dialect.name


# Ranking (K3): every word must match (or, failing that, any word); among the matches the
# phrase as typed, the words close together and the words in the title come first. The
# match set is the same with or without these boosts: they only order it.
TITLE_WEIGHT, BODY_WEIGHT, TAGS_WEIGHT = 10.0, 2.0, 4.0  # FTS5 bm25 column weights
PG_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"  # D, C, B, A: body C, tags B, title A
PG_PHRASE_BOOST, PG_PAIR_BOOST, PG_TITLE_BOOST = 5.0, 1.0, 1.0


def _fts5_expression(stems, any_word):
    """Every word (or, failing that, any word), OR'ed with the terms that only order the
    matches: the phrase as typed, or — when some words are missing anyway — each adjacent
    pair of it. The title's words count through bm25's column weights. Each extra phrase
    costs FTS5 a pass over its prefixes' lists, so there are few of them (bench/RESULTS.md)."""
    words = [f'"{s}"*' for s in stems]
    base = (" OR " if any_word else " AND ").join(words)
    parts = [f"({base})"]
    if len(words) > 1 and not any_word:
        parts.append(" + ".join(words))  # the phrase as typed
    elif len(words) > 1:
        parts.extend(" + ".join(pair) for pair in zip(words, words[1:]))  # pieces of it
    return " OR ".join(parts)


def _pg_rank(vector, stems, any_word):
    """ts_rank_cd of the words, plus the phrase, its pieces and the title's words."""
    words = [f"{s}:*" for s in stems]
    rank = func.ts_rank_cd(literal_column(f"'{PG_WEIGHTS}'::float4[]"), vector, func.to_tsquery("french", (" | " if any_word else " & ").join(words)))
    title = (" | " if any_word else " & ").join(f"{s}:*A" for s in stems)
    rank = rank + PG_TITLE_BOOST * func.ts_rank_cd(vector, func.to_tsquery("french", title))
    if len(words) > 1:
        rank = rank + PG_PHRASE_BOOST * func.ts_rank_cd(vector, func.to_tsquery("french", " <-> ".join(words)))
        if len(words) > 2:
            pairs = " | ".join(f"({a} <-> {b})" for a, b in zip(words, words[1:]))
            rank = rank + PG_PAIR_BOOST * func.ts_rank_cd(vector, func.to_tsquery("french", pairs))
    return rank


def _match_filter(stems, any_word, ranked=True):
    """The backend's match condition and rank expression (lower sorts first). Unranked (to
    count), FTS5 gets the plain words: the same rows, without the phrase terms' cost."""
    if _dialect() == "postgresql":
        joiner = " | " if any_word else " & "
        tsquery = func.to_tsquery("french", joiner.join(f"{s}:*" for s in stems))
        vector = literal_column(_PG_VECTOR)
        return vector.op("@@")(tsquery), -_pg_rank(vector, stems, any_word), None
    plain = (" OR " if any_word else " AND ").join(f'"{s}"*' for s in stems)
    match = literal_column("kb_article_fts").op("MATCH")(_fts5_expression(stems, any_word) if ranked else plain)
    rank = func.bm25(literal_column("kb_article_fts"), TITLE_WEIGHT, BODY_WEIGHT, TAGS_WEIGHT)
    return match, rank, _fts


COUNT_CAP = 100  # beyond this, "more than 100 articles": counting every match would cost a search


def _base(user, category_id=None, kind=None, product_id=None):
    query = db.session.query(KbArticle.id).filter(scopes.articles_filter(user))
    if category_id:
        query = query.filter(KbArticle.category_id.in_(category_and_descendants(category_id)))
    if kind:
        query = query.filter(KbArticle.kind == kind)
    if product_id:
        query = query.filter(KbArticle.product_id == product_id)
    return query


def _matching(user, stems, any_word, filters, ranked=True):
    match, rank, fts = _match_filter(stems, any_word, ranked)
    query = _base(user, **filters)
    if fts is not None:
        query = query.join(fts, fts.c.rowid == KbArticle.id)
    return query.filter(match), rank


def _load(ids):
    """The page's articles with their category and product, in rank order, in one query."""
    if not ids:
        return []
    rows = db.session.query(KbArticle).options(joinedload(KbArticle.category), joinedload(KbArticle.product)).filter(KbArticle.id.in_(ids)).all()
    by_id = {a.id: a for a in rows}
    return [by_id[i] for i in ids if i in by_id]


def search(user, query, *, category_id=None, kind=None, product_id=None, limit=10, offset=0, count=True):
    """Ranked articles the user may read that match `query`, with highlighted snippets.
    Every word must match; when no article has them all, a word no article holds is read as
    a typo of the nearest known word and the search runs again; failing that, articles with
    some of the words. Visibility narrows the matches before they are ranked, counted or shown."""
    results = Results(query=query or "")
    stems = _query_stems(query)
    results.stems = stems
    if not stems:
        return results
    filters = {"category_id": category_id, "kind": kind, "product_id": product_id}
    attempts = [(stems, False)]
    while attempts:
        stems, any_word = attempts.pop(0)
        matching, rank = _matching(user, stems, any_word, filters)
        ids = [row[0] for row in matching.order_by(rank, KbArticle.id).limit(limit).offset(offset)]
        if not ids and not offset and not any_word and stems == results.stems:
            corrected = corrected_stems(stems)
            attempts = ([(corrected, False)] if corrected != stems else []) + ([(corrected, True)] if len(stems) > 1 else [])
            continue
        if ids or offset:
            results.any_word = any_word
            results.stems = stems
            if count:
                counted = _matching(user, stems, any_word, filters, ranked=False)[0] if len(stems) > 1 else matching
                capped = counted.order_by(None).limit(COUNT_CAP + 1).subquery()
                results.total = db.session.query(func.count()).select_from(capped).scalar()
                results.capped = results.total > COUNT_CAP
                results.total = min(results.total, COUNT_CAP)
            else:
                results.total = len(ids)
            results.hits = [Hit(a, snippet(a, stems)) for a in _load(ids)]
            break
    return results


# --- typos ------------------------------------------------------------------------------

_vocabulary_cache = {}
TYPO_CUTOFF = 0.75  # difflib's similarity ratio: « remboursemnt » → « rembours », « echancier » → « echeanci »


VOCABULARY_CHECK_SECONDS = 30


def _vocabulary():
    """The words of the published articles' search documents, sorted; built again when an
    article was added or changed (looked at most every VOCABULARY_CHECK_SECONDS). Only read
    when a query found nothing."""
    url = str(db.engine.url)
    if _vocabulary_cache.get("url") == url and time.monotonic() - _vocabulary_cache["checked"] < VOCABULARY_CHECK_SECONDS:
        return _vocabulary_cache["words"]
    key = (url, *db.session.query(func.count(KbArticle.id), func.max(KbArticle.updated_on)).filter(KbArticle.status == "published").one())
    _vocabulary_cache.update(url=url, checked=time.monotonic())
    if _vocabulary_cache.get("key") != key:
        words = set()
        rows = db.session.query(KbArticle.search_title, KbArticle.search_tags, KbArticle.search_body).filter(KbArticle.status == "published")
        for row in rows.yield_per(500):
            for text in row:
                words.update((text or "").split())
        _vocabulary_cache.update(key=key, words=sorted(w for w in words if len(w) > 2 and not w.isdigit()))
    return _vocabulary_cache["words"]


def _known(stem_, words):
    position = bisect.bisect_left(words, stem_)
    return position < len(words) and words[position].startswith(stem_)


def corrected_stems(stems):
    """The query's stems with each word no article holds replaced by the closest known one."""
    words = _vocabulary()
    corrected = []
    for s in stems:
        if len(s) < 4 or s.isdigit() or _known(s, words):
            corrected.append(s)
            continue
        near = [w for w in words if w[0] == s[0] and abs(len(w) - len(s)) <= 4]
        best = difflib.get_close_matches(s, near, n=1, cutoff=TYPO_CUTOFF)
        corrected.append(best[0] if best else s)
    return corrected


def suggest(user, query, limit=5):
    """Articles to propose while someone types a title: few, fast, best first."""
    if len(_query_stems(query)) == 0:
        return []
    return [hit.article for hit in search(user, query, limit=limit, count=False).hits]


def category_and_descendants(category_id):
    rows = db.session.query(KbCategory.id, KbCategory.parent_id).all()
    children = {}
    for cid, parent in rows:
        children.setdefault(parent, []).append(cid)
    found, todo = [], [int(category_id)]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.append(current)
        todo.extend(children.get(current, []))
    return found


# --- snippets ---------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _word_stem(word):
    """A word as found in a text → its stem, or None for a common word (cached: texts repeat)."""
    word = normalise(word)
    return None if word in STOPWORDS else stem(word)


def _is_searched(word, wanted):
    word_stem = _word_stem(word)
    return word_stem is not None and any(word_stem.startswith(s) for s in wanted)


def highlight(value, stems):
    """`value` escaped, with the words whose stem was searched for in <mark>."""
    wanted = tuple(stems)
    out, last = [], 0
    for m in _WORD_ORIGINAL.finditer(value):
        if _is_searched(m.group(), wanted):
            out.append(escape(value[last : m.start()]))
            out.append(Markup("<mark>%s</mark>") % m.group())
            last = m.end()
    out.append(escape(value[last:]))
    return Markup("").join(out)


SNIPPET_SOURCE_CHARS = 4000  # the snippet comes from the article's beginning: long texts cost no more


def snippet(article, stems, width=220):
    """The part of the article around the first searched word, highlighted."""
    body = plain_text((article.body or "")[:SNIPPET_SOURCE_CHARS])
    source = body or article.summary or ""
    start = 0
    wanted = tuple(stems)
    for m in _WORD_ORIGINAL.finditer(source):
        if _is_searched(m.group(), wanted):
            start = max(0, m.start() - 60)
            break
    if start:
        space = source.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    piece = source[start : start + width]
    if start + width < len(source):
        cut = piece.rfind(" ")
        piece = piece[: cut if cut > width // 2 else width] + " …"
    prefix = "… " if start else ""
    return Markup(prefix) + highlight(piece, stems)


def title_highlight(article, stems):
    return highlight(article.title, stems)

