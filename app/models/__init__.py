"""Every table of NovaDesk; importing this package registers them all."""
from app.models.audit import ActivityLog  # noqa: F401
from app.models.auth import AccountRequest, AccountRequestStatus, EmailCode, LoginThrottle, RecoveryCode, RolePolicy, UserSession  # noqa: F401
from app.models.chat import ChatChannel, ChatConversation, ChatFile, ChatMessage, ChatPresence, ConversationStatus  # noqa: F401
from app.models.directory import Organisation, OrganisationKind, Product  # noqa: F401
from app.models.integration import SyncRun, SyncSource, SyncSourceKind  # noqa: F401
from app.models.kb import (  # noqa: F401
    ArticleKind,
    ArticleStatus,
    KbArticle,
    KbArticleVersion,
    KbCategory,
    KbFile,
    KbSuggestion,
    KbVote,
    Visibility,
)
from app.models.mail_in import InboundMail, InboundStatus, Mailbox, MailboxSecurity  # noqa: F401
from app.models.outbox import OutboxMail, OutboxStatus  # noqa: F401
from app.models.people import NovaUser  # noqa: F401
from app.models.performance import (  # noqa: F401
    EscalationRule,
    SatisfactionInvite,
    SatisfactionRating,
    SlaAlert,
    SlaDeadline,
    SlaStage,
)
from app.models.rollups import TicketDayFigures  # noqa: F401
from app.models.tickets import (  # noqa: F401
    Attachment,
    BusinessCalendar,
    CannedResponse,
    Channel,
    Holiday,
    Priority,
    Queue,
    RequestType,
    Routing,
    StatusCategory,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketMessage,
    TicketStatus,
)
from app.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEvent, WebhookSubscription  # noqa: F401
