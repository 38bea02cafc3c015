"""The knowledge base (K1–K5): categories, articles and their versions, images, votes, and
the suggestions shown before a ticket or a chat (deflection)."""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import relationship

from app.models.types import UTCDateTime, utcnow


class Visibility:
    """Who may read an article or a category (K5); a client wiki page belongs to one client (K2)."""

    PUBLIC = "public"  # anyone, signed in or not
    PARTNERS = "partners"  # every signed-in person
    ORGANISATIONS = "organisations"  # the chosen organisations (and the people who serve them)
    INTERNAL = "internal"  # the vendor's people only
    ALL = [PUBLIC, PARTNERS, ORGANISATIONS, INTERNAL]


class ArticleStatus:
    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"
    ARCHIVED = "archived"
    ALL = [DRAFT, REVIEW, PUBLISHED, ARCHIVED]


class ArticleKind:
    FAQ = "faq"
    GUIDE = "guide"
    INCIDENT = "incident"  # resolution of a frequent incident
    RELEASE_NOTE = "release_note"
    WIKI = "wiki"  # a page of a client's wiki
    ALL = [FAQ, GUIDE, INCIDENT, RELEASE_NOTE, WIKI]


kb_category_organisation = Table(
    "kb_category_organisation",
    Model.metadata,
    Column("category_id", Integer, ForeignKey("kb_category.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", Integer, ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
)

kb_article_organisation = Table(
    "kb_article_organisation",
    Model.metadata,
    Column("article_id", Integer, ForeignKey("kb_article.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", Integer, ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class KbCategory(Model):
    __tablename__ = "kb_category"
    id = Column(Integer, primary_key=True)
    parent_id = Column(Integer, ForeignKey("kb_category.id"), nullable=True, index=True)
    parent = relationship("KbCategory", remote_side=[id], backref="children")
    name = Column(String(150), nullable=False)
    description = Column(Text)
    icon = Column(String(40))
    position = Column(Integer, nullable=False, default=0)
    visibility = Column(String(20), nullable=False, default=Visibility.PUBLIC)
    organisations = relationship("Organisation", secondary=kb_category_organisation)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self):
        return self.name


class KbArticle(Model):
    __tablename__ = "kb_article"
    __table_args__ = (
        Index("ix_kb_article_status_visibility", "status", "visibility"),
        # Only wiki pages: an index over the NULLs of every other article would tempt the planner.
        Index("ix_kb_article_wiki", "wiki_organisation_id", "status", sqlite_where=text("wiki_organisation_id IS NOT NULL"), postgresql_where=text("wiki_organisation_id IS NOT NULL")),
        Index("ix_kb_article_kind_published", "kind", "published_on"),
        Index("ix_kb_article_popular", "status", "view_count"),
    )

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    slug = Column(String(200), nullable=False)
    summary = Column(String(300))
    kind = Column(String(20), nullable=False, default=ArticleKind.FAQ)
    category_id = Column(Integer, ForeignKey("kb_category.id"), nullable=True, index=True)
    category = relationship("KbCategory", backref="articles")
    product_id = Column(Integer, ForeignKey("product.id"), nullable=True, index=True)
    product = relationship("Product")
    product_version = Column(String(50))
    tags = Column(String(300), nullable=False, default="")  # comma-separated
    language = Column(String(5), nullable=False, default="fr")
    # The French and English versions of one article point to the same original.
    translation_of_id = Column(Integer, ForeignKey("kb_article.id"), nullable=True, index=True)
    translation_of = relationship("KbArticle", remote_side=[id], backref="translations")
    status = Column(String(20), nullable=False, default=ArticleStatus.DRAFT)
    visibility = Column(String(20), nullable=False, default=Visibility.INTERNAL)
    organisations = relationship("Organisation", secondary=kb_article_organisation)
    # A client wiki page (K2): only that client's people and those who serve it read it.
    wiki_organisation_id = Column(Integer, ForeignKey("organisation.id"), nullable=True)
    wiki_organisation = relationship("Organisation", foreign_keys=[wiki_organisation_id])
    author_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    author = relationship("NovaUser", foreign_keys=[author_id])
    source_ticket_id = Column(Integer, ForeignKey("ticket.id"), nullable=True)
    source_ticket = relationship("Ticket")
    version = Column(Integer, nullable=False, default=1)
    view_count = Column(Integer, nullable=False, default=0)
    helpful_yes = Column(Integer, nullable=False, default=0)
    helpful_no = Column(Integer, nullable=False, default=0)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_on = Column(UTCDateTime, nullable=False, default=utcnow)
    published_on = Column(UTCDateTime, nullable=True)
    # The long columns last: SQLite then reads status and visibility without the text's
    # overflow pages when it filters search matches.
    body = Column(Text, nullable=False, default="")  # Markdown, rendered then sanitised
    # The search documents: words without accents, lower-case, reduced to their stems
    # (app/services/search.py); SQLite's FTS5 index and PostgreSQL's GIN index read these.
    search_title = Column(Text, nullable=False, default="")
    search_body = Column(Text, nullable=False, default="")
    search_tags = Column(Text, nullable=False, default="")

    @property
    def tag_list(self):
        return [t.strip() for t in (self.tags or "").split(",") if t.strip()]

    def __repr__(self):
        return self.title


class KbArticleVersion(Model):
    """A saved state of an article (K4): who changed what, restorable."""

    __tablename__ = "kb_article_version"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_kb_article_version_number"),)
    id = Column(Integer, primary_key=True)
    article_id = Column(Integer, ForeignKey("kb_article.id", ondelete="CASCADE"), nullable=False)
    number = Column(Integer, nullable=False)
    title = Column(String(200), nullable=False)
    summary = Column(String(300))
    body = Column(Text, nullable=False)
    tags = Column(String(300), nullable=False, default="")
    status = Column(String(20), nullable=False)
    changed_fields = Column(String(300), nullable=False, default="")  # e.g. "title,body"
    note = Column(String(300))
    changed_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    changed_by = relationship("NovaUser")
    changed_on = Column(UTCDateTime, nullable=False, default=utcnow)


class KbFile(Model):
    """An image or file shown in an article; readable by whoever may read the article."""

    __tablename__ = "kb_file"
    id = Column(Integer, primary_key=True)
    article_id = Column(Integer, ForeignKey("kb_article.id", ondelete="CASCADE"), nullable=False, index=True)
    article = relationship("KbArticle", backref="files")
    filename = Column(String(255), nullable=False)
    content_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    storage_key = Column(String(200), nullable=False)
    is_image = Column(Boolean, nullable=False, default=False)
    uploaded_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)


class KbVote(Model):
    """"Was this helpful?": one vote per reader (a user, or an anonymous browser's key)."""

    __tablename__ = "kb_vote"
    __table_args__ = (UniqueConstraint("article_id", "voter_key", name="uq_kb_vote_voter"),)
    id = Column(Integer, primary_key=True)
    article_id = Column(Integer, ForeignKey("kb_article.id", ondelete="CASCADE"), nullable=False)
    voter_key = Column(String(64), nullable=False)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    helpful = Column(Boolean, nullable=False)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)


class KbSuggestion(Model):
    """Articles proposed while someone typed a ticket's title or before a chat; whether a
    ticket was filed afterwards tells the deflection rate."""

    __tablename__ = "kb_suggestion"
    id = Column(Integer, primary_key=True)
    token = Column(String(40), nullable=False, unique=True)
    channel = Column(String(20), nullable=False)  # ticket_form, chat
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    query = Column(String(200), nullable=False)
    article_ids = Column(String(200), nullable=False, default="")
    opened_article_id = Column(Integer, ForeignKey("kb_article.id", ondelete="SET NULL"), nullable=True)
    ticket_id = Column(Integer, ForeignKey("ticket.id", ondelete="SET NULL"), nullable=True)
    shown_on = Column(UTCDateTime, nullable=False, default=utcnow, index=True)


def include_in_schema_comparison(obj, name, type_, reflected, compare_to):
    """Alembic's filter: the search indexes (FTS5 tables, PostgreSQL's expression index, the
    tickets' trigram index on PostgreSQL) are made by hand in the migrations and have no model."""
    return not (name or "").startswith(("kb_article_fts", "ix_kb_article_fts", "ix_ticket_title_trgm"))
