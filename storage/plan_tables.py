"""The tables of the shared action plan: actions, their themes, statuses, milestones,
history and comments, and the follow-up indicators with their measurements."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables import Base, Timestamp


class ActionStatus(Base):
    """A status an action can have, as data: Relais ships five, an operator may add others."""

    __tablename__ = "action_statuses"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    default_progress: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=100)


class Action(Base):
    """An action of the plan, by the Region or an association, maybe part of a larger one."""

    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_consultation", "consultation_id"),
                      Index("ix_actions_parent", "parent_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="SET NULL"))
    consultation_id: Mapped[str | None] = mapped_column(ForeignKey("consultations.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The owner: a service of the Region in words, or an association.
    owner: Mapped[str] = mapped_column(String(200), default="")
    owner_association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL"))
    # A key of action_statuses; not a foreign key, so the shipped statuses need no row.
    status: Mapped[str] = mapped_column(String(20))
    # 0–100 set by hand; NULL on a parent means computed from its children.
    progress: Mapped[int | None] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # An association's proposal, and what officials decided about it.
    proposer_association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL"))
    decision: Mapped[str | None] = mapped_column(String(12))  # accepted | merged | declined
    decision_reason: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class ActionTheme(Base):
    """A consultation theme (and maybe one question) whose answers an action responds to."""

    __tablename__ = "action_themes"
    __table_args__ = (Index("ix_action_themes_consultation_theme", "consultation_id", "theme"),)

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"),
                                           primary_key=True)
    theme: Mapped[str] = mapped_column(String(40), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(40))
    question_id: Mapped[str | None] = mapped_column(String(40))


class Milestone(Base):
    """A dated step in the story of an action."""

    __tablename__ = "action_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"),
                                           index=True)
    on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class ActionChange(Base):
    """One field of an action changed: who, when, the old and new values."""

    __tablename__ = "action_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"),
                                           index=True)
    at: Mapped[datetime] = mapped_column(Timestamp)
    actor: Mapped[str] = mapped_column(String(120))
    field: Mapped[str] = mapped_column(String(40))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)


class ActionComment(Base):
    """A comment on an action, by an official or an association."""

    __tablename__ = "action_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"),
                                           index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_users.id", ondelete="SET NULL"))
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("associations.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(Timestamp)


class Indicator(Base):
    """A follow-up indicator in the VISES spirit: the evaluation question it answers, how it
    is measured, by whom, from what baseline to what target."""

    __tablename__ = "plan_indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[str | None] = mapped_column(ForeignKey("consultations.id"),
                                                        index=True)
    name: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text, default="")  # the evaluation question
    level: Mapped[str] = mapped_column(String(12))  # activite | realisation | effet | processus
    kind: Mapped[str] = mapped_column(String(12))  # quantitatif | qualitatif
    definition: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str] = mapped_column(String(20))  # calcule | enquete | entretien | …
    source: Mapped[str] = mapped_column(Text, default="")
    collector: Mapped[str] = mapped_column(String(200), default="")
    validator: Mapped[str] = mapped_column(String(200), default="")
    baseline: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20), default="")
    frequency: Mapped[str] = mapped_column(String(40), default="")
    # What Relais measures itself for it (participants, completion…), or None: entered.
    computed: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class Measurement(Base):
    """A dated value of an indicator, with its comment and evidence, who entered it and who
    validated it."""

    __tablename__ = "plan_measurements"
    # At most one automatic measurement per indicator and day, even with two workers.
    __table_args__ = (UniqueConstraint("indicator_id", "automatic_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("plan_indicators.id", ondelete="CASCADE"), index=True)
    on: Mapped[date] = mapped_column(Date)
    value: Mapped[float | None] = mapped_column(Float)  # None for a qualitative one
    comment: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")  # e.g. redacted quotes
    entered_by: Mapped[str] = mapped_column(String(120))
    validated_by: Mapped[str | None] = mapped_column(String(120))
    validated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    automatic_on: Mapped[date | None] = mapped_column(Date)  # set only when Relais measured
    created_at: Mapped[datetime] = mapped_column(Timestamp)
