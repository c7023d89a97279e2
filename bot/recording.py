"""Turns what a message did into rows: the engine's events (sessions, answers, opt-outs,
erasures, theme labels, replies), invites, the referral question and replies to feedback,
written in a few statements per batch of turns."""

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import engine, referral
from bot.engine import Flow, Purpose, QuestionType, Session, Status
from bot.my_data import Held, MyData
from bot.routing import Message
from storage import audit, conversations, feedback, labels, outbox, participants
from storage.conversations import SessionRecord
from storage.invites import LiveInvite

log = logging.getLogger(__name__)

FEEDBACK_THANKS = "Merci, votre réponse a bien été transmise à la Région."


class Recording:
    """The rows a batch of turns writes, kept in memory until `flush`. What reads, deletes or
    cancels rows (erasure, restart, STOP, MES DONNEES, a theme confirmed, a reply to
    feedback) writes what is kept first, so that it sees every earlier turn."""

    def __init__(self, tx: AsyncSession, my_data: MyData) -> None:
        self.tx = tx
        self.my_data = my_data
        self.opened: list[SessionRecord] = []  # new sessions, not inserted yet
        self.changed: dict[SessionRecord, None] = {}  # stored sessions to write back, in order
        self.answers: list[tuple[SessionRecord, dict]] = []
        self.territories: dict[SessionRecord, str | None] = {}
        self.replies: list[dict] = []

    async def turn(self, message: Message, flow: Flow, stored: SessionRecord | None,
                   turn: engine.Turn, now: datetime, *, silent: bool,
                   association_id: int | None) -> SessionRecord | None:
        """Applies one turn's events to the participant's session in `flow` (None when they
        have none there); returns their session afterwards."""
        position = 0
        pid = message.participant_id
        for event in turn.events:
            if isinstance(event, engine.FlowStarted):
                stored = self.open(pid, flow.id, turn.session, now)
            elif isinstance(event, engine.AnswerRecorded):
                question = flow.question(event.question)
                # One raw copy of free text: raw_text; its value would be a second one.
                value = None if question.type is QuestionType.TEXT else event.value
                self.answers.append((stored, conversations.answer_values(
                    stored, event.question, event.raw, value, event.valid, now,
                    channel=message.channel, association_id=association_id)))
                self.derive(stored, question.purpose, event.value)
            elif isinstance(event, engine.FlowRestarted | engine.ConsentRefused):
                await self.flush()
                await conversations.clear_answers(self.tx, stored, now)
            elif isinstance(event, engine.ErasureConfirmed):
                await self.flush()
                await conversations.erase_participant(self.tx, pid, now)
                audit.record(self.tx, actor="participant", action="participant.erased",
                             target=f"participant:{pid}", at=now)
                stored = None
            elif isinstance(event, engine.ParticipantStopped):
                await self.flush()  # the replies kept so far are cancelled too
                await participants.set_stopped(self.tx, pid, now)
                await outbox.cancel_pending(self.tx, pid, "participant stopped")
            elif isinstance(event, engine.ParticipantRestarted):
                await participants.set_stopped(self.tx, pid, None)
            elif isinstance(event, engine.ThemeConfirmed | engine.ThemeChosen
                            | engine.ThemeRejected):
                await self.label(stored, event, now)
            elif isinstance(event, engine.FlowFailed):
                log.error("consultation %s : %s", flow.id, event.reason)
            elif silent:
                continue
            elif isinstance(event, engine.DataRequested):
                await self.flush()
                held = [Held(*row) for row in await conversations.answers_of(self.tx, pid)]
                self.reply(message, position, self.my_data.message(held, message.channel, pid),
                           now, kind=outbox.PERSONAL_DATA)
                position += 1
            elif isinstance(event, engine.ReplyCreated):
                stopped = turn.session.status is Status.STOPPED
                kind = outbox.OPT_OUT_CONFIRMATION if stopped else "reply"
                self.reply(message, position, event.text, now, event.choices, kind,
                           event.question)
                position += 1
        if stored is None and turn.session.status is Status.STOPPED:
            # STOP as a very first message: keep the opt-out, so that START can undo it.
            stored = self.open(pid, flow.id, turn.session, now)
        if stored is not None:
            stored.take_state(turn.session.to_dict(), turn.session.status.value, now)
            if stored.id is not None:
                self.changed[stored] = None
        return stored

    def open(self, participant_id: int, consultation_id: str, session: Session,
             now: datetime) -> SessionRecord:
        """Starts a new session, inserted at the next flush."""
        record = SessionRecord(participant_id, consultation_id, session.status.value,
                               session.to_dict(), started_at=now, updated_at=now)
        self.opened.append(record)
        return record

    def derive(self, stored: SessionRecord, purpose: Purpose | None, value: object) -> None:
        """Copies answers that describe the participant onto the session, for aggregates."""
        if purpose is Purpose.TERRITORY:
            # The answers given before it was known get it too.
            stored.territory = self.territories[stored] = value
        elif purpose is Purpose.AGE_BAND:
            stored.age_band = value
        elif purpose is Purpose.FEEDBACK_OPT_IN:
            stored.feedback_opt_in = value

    async def label(self, stored: SessionRecord, event: engine.ThemeConfirmed
                    | engine.ThemeChosen | engine.ThemeRejected, now: datetime) -> None:
        """Stores the participant's yes, no or choice about the theme of their answer."""
        await self.flush()
        answer_id = await conversations.answer_id(self.tx, stored.id, event.question)
        if answer_id is not None:
            # A "no" is kept too: it takes the theme off the answer, and the answer goes to
            # the front of the review queue.
            await labels.record_person_label(
                self.tx, answer_id, event.theme, labels.PARTICIPANT, None, now,
                negative=isinstance(event, engine.ThemeRejected))

    async def invited(self, participant_id: int, invite: LiveInvite) -> None:
        """Records that an invite brought the participant, for its association's counts."""
        await participants.set_referral(self.tx, participant_id, invite_code=invite.code,
                                        association_id=invite.association_id,
                                        asked_association_at=None)

    async def association_asked(self, message: Message, names: list[str],
                                now: datetime) -> None:
        """Asks a newcomer which association sent them, and remembers that it was asked."""
        text, choices = referral.question(names)
        await participants.set_referral(self.tx, message.participant_id,
                                        asked_association_at=now)
        self.reply(message, 0, text, now, choices, question=referral.STEP)

    async def association_answered(self, participant_id: int,
                                   association_id: int | None) -> None:
        """Records the answer to that question: an association, or none."""
        values = {"asked_association_at": None}
        if association_id is not None:
            values["association_id"] = association_id
        await participants.set_referral(self.tx, participant_id, **values)

    async def feedback_reply(self, message: Message, stored: SessionRecord, feedback_id: int,
                             text: str, now: datetime, *, association_id: int | None) -> None:
        """Stores what someone wrote after receiving feedback as their reply to it (added to
        their earlier reply, if any), and thanks them the first time."""
        await self.flush()  # their session may be new in this batch
        first = await feedback.record_reply(self.tx, stored, feedback_id, text, now,
                                            channel=message.channel,
                                            association_id=association_id)
        if first:
            self.reply(message, 0, FEEDBACK_THANKS, now)

    def reply(self, message: Message, position: int, text: str, now: datetime,
              choices: tuple = (), kind: str = "reply", question: str | None = None) -> None:
        """Queues a reply to a message, its `position`-th."""
        self.replies.append({
            "participant_id": message.participant_id, "channel": message.channel,
            "text": text, "choices": [list(c) for c in choices], "question_id": question,
            "inbound_id": message.id, "position": position, "kind": kind, "created_at": now})

    async def flush(self) -> None:
        """Writes what the turns so far changed: a statement per table, whatever their number."""
        await conversations.insert_sessions(self.tx, self.opened)
        await conversations.update_sessions(self.tx, list(self.changed))
        await conversations.record_answers(
            self.tx, [{"session_id": record.id, **values} for record, values in self.answers])
        await conversations.set_territories(
            self.tx, {record.id: place for record, place in self.territories.items()})
        await outbox.enqueue_many(self.tx, self.replies)
        self.opened, self.changed, self.answers, self.territories, self.replies = \
            [], {}, [], {}, []
