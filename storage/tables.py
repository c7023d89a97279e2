"""The database tables, as SQLAlchemy 2 declarative models."""

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every database (SQLite would return naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Timestamp = UTCDateTime()


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING)


class Association(Base):
    """An association that relays consultations to the people it knows."""

    __tablename__ = "associations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    territory: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class Invite(Base):
    """A short code an association hands out: Telegram deep link, SMS first word, QR code."""

    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # What the association calls it ("Flyers marché du samedi") and why, for its own records.
    name: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)


class Participant(Base):
    """A person on one channel, known only by a keyed pseudonym."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    stopped_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # The invite that brought the participant, kept so each association's relay is counted.
    invite_code: Mapped[str | None] = mapped_column(
        ForeignKey("invites.code", ondelete="SET NULL"))
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL"), index=True)
    # Set while a bare /start waits for the person to say which association sent them.
    asked_association_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Identity(Base):
    """The address of a participant (phone number, chat id), encrypted; nothing else."""

    __tablename__ = "identities"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    address_ciphertext: Mapped[str] = mapped_column(Text)


class Consultation(Base):
    """A consultation file as loaded, so the admin view can read it without the bot."""

    __tablename__ = "consultations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    retention_days: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict] = mapped_column(JSON)
    checksum: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(Timestamp)


class ConsultationSession(Base):
    """One participant's run through one consultation, with the engine's state."""

    __tablename__ = "consultation_sessions"
    __table_args__ = (Index("ix_sessions_consultation_status", "consultation_id", "status"),
                      # Covers the overview's sessions-over-time count on its own.
                      Index("ix_sessions_consultation_started", "consultation_id", "started_at",
                            "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"))
    status: Mapped[str] = mapped_column(String(20))
    state: Mapped[dict] = mapped_column(JSON)
    territory: Mapped[str | None] = mapped_column(String(12))
    age_band: Mapped[str | None] = mapped_column(String(20))
    feedback_opt_in: Mapped[bool | None] = mapped_column(Boolean)
    started_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class InboundMessage(Base):
    """A message as received from a channel, stored before it is acknowledged."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id", name="uq_inbound_channel_provider_id"),
        Index("ix_inbound_status_id", "status", "id"),
        Index("ix_inbound_participant_id", "participant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[str] = mapped_column(String(100))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    processed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class Answer(Base):
    """One answer to one question: the raw text and its normalised value."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("session_id", "question_id", name="uq_answers_session_question"),
        Index("ix_answers_consultation_question", "consultation_id", "question_id"),
        # The admin view counts and filters a question's answers by these: a million answers
        # must stay a few index range scans, never a join per row.
        Index("ix_answers_question_theme", "consultation_id", "question_id", "theme",
              "theme_score"),
        Index("ix_answers_question_territory", "consultation_id", "question_id", "territory"),
        Index("ix_answers_question_association", "consultation_id", "question_id",
              "association_id"),
        Index("ix_answers_question_answered_at", "consultation_id", "question_id",
              "answered_at"),
        # Exports read a consultation's answers in id order, a batch at a time.
        Index("ix_answers_consultation_id", "consultation_id", "id"),
        # The review queue shows first what participants disputed.
        Index("ix_answers_consultation_disputed", "consultation_id", "disputed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("consultation_sessions.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[str] = mapped_column(String(40))
    question_id: Mapped[str] = mapped_column(String(40))
    raw_text: Mapped[str] = mapped_column(Text)
    value: Mapped[object | None] = mapped_column(JSON)
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    answered_at: Mapped[datetime] = mapped_column(Timestamp)
    # What officials and associations may read: names, numbers, e-mails, addresses masked.
    redacted_text: Mapped[str | None] = mapped_column(Text)
    # The redacted text folded (lower case, no accents) for text search; indexed by the
    # migrations (FTS5 on SQLite, trigrams on PostgreSQL).
    search_text: Mapped[str | None] = mapped_column(Text)
    # Copied from the participant and the session when the answer is stored (territory also
    # when it is learnt later), so the admin view filters without joins.
    channel: Mapped[str | None] = mapped_column(String(20))
    association_id: Mapped[int | None] = mapped_column(Integer)
    territory: Mapped[str | None] = mapped_column(String(12))
    # The main theme that counts: an official's label, else the participant's, else the
    # model's. Every theme that counts (an answer may raise several) is in answer_themes; this
    # one is NULL exactly when the answer has none there.
    theme: Mapped[str | None] = mapped_column(String(40))
    theme_score: Mapped[float | None] = mapped_column(Float)
    theme_source: Mapped[str | None] = mapped_column(String(12))
    # The participant said the model's theme was wrong: shown first in the review queue.
    disputed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set aside by an official (hors_sujet, test, doublon): out of counts and quotes, reversibly.
    excluded: Mapped[str | None] = mapped_column(String(12))
    excluded_by: Mapped[str | None] = mapped_column(String(120))
    excluded_at: Mapped[datetime | None] = mapped_column(Timestamp)


class AnswerTheme(Base):
    """One theme that counts for an answer; an answer raising several subjects has several."""

    __tablename__ = "answer_themes"
    __table_args__ = (Index("ix_answer_themes_question_theme", "consultation_id", "question_id",
                            "theme", "answer_id"),)

    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"),
                                           primary_key=True)
    theme: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Copied from the answer, so counts per theme read this table's index alone.
    consultation_id: Mapped[str] = mapped_column(String(40))
    question_id: Mapped[str] = mapped_column(String(40))
    score: Mapped[float | None] = mapped_column(Float)  # the model's probability, if it chose
    source: Mapped[str] = mapped_column(String(12))  # model | official | participant


class PinnedQuote(Base):
    """An answer an official chose to quote for a theme, in the bilan and public pages."""

    __tablename__ = "pinned_quotes"
    __table_args__ = (Index("ix_pinned_quotes_consultation", "consultation_id", "question_id",
                            "theme"),)

    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"),
                                           primary_key=True)
    theme: Mapped[str] = mapped_column(String(40), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(40))
    question_id: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(120))
    pinned_at: Mapped[datetime] = mapped_column(Timestamp)


class ThemeModel(Base):
    """A trained theme model of a consultation; one at a time is active."""

    __tablename__ = "theme_models"

    version: Mapped[str] = mapped_column(String(80), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    path: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    training_rows: Mapped[int] = mapped_column(Integer)
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class ThemeSummary(Base):
    """What answers to one question say about one theme: frequent terms, typical answers."""

    __tablename__ = "theme_summaries"

    consultation_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    theme: Mapped[str] = mapped_column(String(40), primary_key=True)
    answers: Mapped[int] = mapped_column(Integer)
    terms: Mapped[list] = mapped_column(JSON, default=list)  # [[term, count], …]
    # Ids of typical answers, not their text: an erased answer leaves no copy behind.
    examples: Mapped[list] = mapped_column(JSON, default=list)
    model_version: Mapped[str] = mapped_column(String(80))
    computed_at: Mapped[datetime] = mapped_column(Timestamp)


class SummaryRequest(Base):
    """A consultation whose theme summaries must be computed again (answers erased, purged,
    set aside or relabelled): the classification worker takes it."""

    __tablename__ = "summary_requests"

    consultation_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(Timestamp)


class AnswerLabel(Base):
    """A theme given to an answer: by a model (with its version and score), an official or
    the participant."""

    __tablename__ = "answer_labels"
    __table_args__ = (Index("ix_answer_labels_answer_source", "answer_id", "source"),
                      # Double reading and agreement look up what each official labelled.
                      Index("ix_answer_labels_source_actor", "source", "actor"))

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    theme: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(12))  # model | official | participant
    score: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(80))
    # The participant answered "no" to "did I understand you?": not this theme.
    negative: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The themes one person chose together for an answer share this token: the latest choice
    # replaces the earlier ones as a whole.
    choice: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class OutboxMessage(Base):
    """A message waiting to be delivered, or delivered, to a participant."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("inbound_id", "position", name="uq_outbox_inbound_position"),
        Index("ix_outbox_status_id", "status", "id"),
        Index("ix_outbox_participant_id", "participant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20), default="reply")
    text: Mapped[str] = mapped_column(Text)
    choices: Mapped[list] = mapped_column(JSON, default=list)
    question_id: Mapped[str | None] = mapped_column(String(40))  # what the buttons answer
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(Timestamp)
    lease_until: Mapped[datetime | None] = mapped_column(Timestamp)
    # The worker holding the lease: when it dies its messages are taken back at once, not
    # when the lease runs out.
    leased_by: Mapped[int | None] = mapped_column(Integer)
    provider_id: Mapped[str | None] = mapped_column(String(100), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # What the provider later reported (Twilio status callbacks): only ever moves forward.
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    delivery_error: Mapped[str | None] = mapped_column(String(20))
    # The feedback campaign this message belongs to (kind "feedback"), for its counts.
    feedback_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_messages.id", ondelete="SET NULL"), index=True)


class Worker(Base):
    """A running process that processes and delivers messages, known by its heartbeat."""

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(Timestamp)
    heartbeat_at: Mapped[datetime] = mapped_column(Timestamp)
    stopped_at: Mapped[datetime | None] = mapped_column(Timestamp)


class AuditEntry(Base):
    """Who did what, when: operators, officials and the system."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class AdminUser(Base):
    """A person who signs in to the admin view: an official, an association or an admin."""

    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    role: Mapped[str] = mapped_column(String(20))  # official | association | admin
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"))
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    disabled_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Second factor (RFC 6238): the base32 secret, encrypted with the secret key; and the last
    # 30-second step whose code was accepted, so that no code opens a session twice.
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)


class AdminSession(Base):
    """A signed-in browser; the cookie holds a token, the table only its SHA-256."""

    __tablename__ = "admin_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("admin_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp)
    # The password was right, the second factor's code is still awaited: opens nothing else.
    second_factor_pending: Mapped[bool] = mapped_column(Boolean, default=False,
                                                        server_default=false())
    # A secret being enrolled (encrypted), until a code from it confirms it.
    totp_candidate: Mapped[str | None] = mapped_column(Text)


class AdminVisit(Base):
    """When a person last opened a page of the admin view (a consultation, a question)."""

    __tablename__ = "admin_visits"

    user_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"),
                                         primary_key=True)
    page: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(Timestamp)


class SessionTally(Base):
    """Sessions of a consultation counted by what the pages break them down by: per Paris
    day of their start, and over all days (day NULL). Kept by storage/tallies.py."""

    __tablename__ = "tally_sessions"
    __table_args__ = (Index("ix_tally_sessions_consultation_day", "consultation_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(40))
    day: Mapped[date | None] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20))
    association_id: Mapped[int | None] = mapped_column(Integer)
    territory: Mapped[str | None] = mapped_column(String(12))
    age_band: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    went_on: Mapped[bool] = mapped_column(Boolean)
    feedback_opt_in: Mapped[bool | None] = mapped_column(Boolean)
    sessions: Mapped[int] = mapped_column(Integer)


class AnswerTally(Base):
    """Answers not set aside, counted per question, value and channel: per Paris day of
    their session's start, and over all days (day NULL). Kept by storage/tallies.py."""

    __tablename__ = "tally_answers"
    __table_args__ = (Index("ix_tally_answers_consultation_day", "consultation_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(40))
    day: Mapped[date | None] = mapped_column(Date)
    channel: Mapped[str | None] = mapped_column(String(20))
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)  # canonical JSON text
    valid: Mapped[bool] = mapped_column(Boolean)
    answers: Mapped[int] = mapped_column(Integer)


class ThemeTally(Base):
    """The themes that count for answers not set aside, counted per question, theme, source
    and channel, and whether the theme is the answer's main one: per Paris day of their
    session's start, and over all days (day NULL). Kept by storage/tallies.py."""

    __tablename__ = "tally_themes"
    __table_args__ = (Index("ix_tally_themes_consultation_day", "consultation_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(40))
    day: Mapped[date | None] = mapped_column(Date)
    channel: Mapped[str | None] = mapped_column(String(20))
    question_id: Mapped[str] = mapped_column(String(40))
    theme: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(12))  # model | official | participant
    main: Mapped[bool] = mapped_column(Boolean)  # the answer's main theme (one per answer)
    answers: Mapped[int] = mapped_column(Integer)


class TallyState(Base):
    """That a consultation's tallies were counted, when, and how many passes so far."""

    __tablename__ = "tally_state"

    consultation_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(Timestamp)
    passes: Mapped[int] = mapped_column(Integer)  # a pass writes only if none came between


class TallyMark(Base):
    """A day of a consultation whose counts changed since the last pass: a session written,
    an answer added or set aside, an erasure, a purge, an association found later."""

    __tablename__ = "tally_marks"
    __table_args__ = (Index("ix_tally_marks_consultation", "consultation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    marked_at: Mapped[datetime] = mapped_column(Timestamp)


class LoginFailure(Base):
    """A failed sign-in, counted per account and per address to throttle guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))  # "account:<sha256>" or "address:<ip>"
    at: Mapped[datetime] = mapped_column(Timestamp)


class FeedbackMessage(Base):
    """What the Region tells participants it retained from their answers (step d)."""

    __tablename__ = "feedback_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    theme: Mapped[str | None] = mapped_column(String(40))  # only those who spoke of it
    territory: Mapped[str | None] = mapped_column(String(12))  # only this département
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # Sent from an action of the plan ("vous avez dit, nous avons fait"), to its themes.
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id", ondelete="SET NULL"), index=True)


# The action plan's tables live in their own module; imported here so that Base.metadata
# (migrations, the schema test, the test database's emptying) always knows them.
from storage import plan_tables  # noqa: E402, F401
