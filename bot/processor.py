"""The processor: runs the engine on stored messages, in order per participant, exactly once."""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot import engine
from bot.engine import Flow, Inbound, Purpose, Session, Status
from bot.workers import drain_forever, wait_until
from storage import audit, conversations, inbox, outbox, participants
from storage.database import Database
from storage.tables import ConsultationSession, InboundMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a message that fails this often is set aside so others go on
IDLE_POLL_SECONDS = 2.0


def utcnow() -> datetime:
    """Returns the current time, timezone-aware."""
    return datetime.now(UTC)


class Processor:
    """Applies engine turns to pending inbound messages and queues the replies."""

    def __init__(self, db: Database, flows: dict[str, Flow], default_consultation: str,
                 wake: asyncio.Event, replies_queued: asyncio.Event,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.flows = flows
        self.default = default_consultation
        self.wake = wake
        self.replies_queued = replies_queued
        self.clock = clock
        self.processed = asyncio.Condition()

    async def run(self) -> None:
        """Processes messages until cancelled, waking when new ones arrive."""
        await drain_forever(self.run_once, self.wake, IDLE_POLL_SECONDS, "traitement")

    async def run_once(self, batch: int = 200) -> int:
        """Processes what is pending now; returns how many messages were handled."""
        async with self.db.read() as tx:
            waiting = await inbox.pending_participants(tx, batch)
        handled = 0
        for participant_id in waiting:
            while await self.process_next(participant_id):
                handled += 1
        if handled:
            async with self.processed:
                self.processed.notify_all()
        return handled

    async def process_next(self, participant_id: int) -> bool:
        """Processes the participant's oldest pending message; False when there is none."""
        message_id = None
        try:
            async with self.db.transaction() as tx:
                if not await inbox.lock_participant(tx, participant_id):
                    return False  # another process holds this participant
                message = await inbox.oldest_pending(tx, participant_id)
                if message is None:
                    return False
                message_id = message.id
                await self._apply(tx, message)
                await inbox.mark_processed(tx, message.id, self.clock())
        except Exception as error:
            if message_id is None:
                raise
            log.exception("message %s : échec du traitement", message_id)
            async with self.db.transaction() as tx:
                await inbox.record_failure(tx, message_id, repr(error), MAX_ATTEMPTS)
            return True
        self.replies_queued.set()
        return True

    async def wait_processed(self, inbound_id: int, seconds: float) -> bool:
        """Waits until a message is processed (or set aside); False on timeout."""
        async def done() -> bool:
            async with self.db.read() as tx:
                return await inbox.status_of(tx, inbound_id) != inbox.PENDING

        return await wait_until(done, self.processed, seconds)

    def _flow_for(self, row: ConsultationSession | None, message: InboundMessage) -> Flow:
        asked = message.payload.get("consultation")
        state = Session.from_dict(row.state) if row is not None else None
        finished = state is None or state.status not in (Status.CONSENT, Status.ACTIVE,
                                                         Status.STOPPED)
        if asked in self.flows and finished:
            return self.flows[asked]
        if row is not None and row.consultation_id in self.flows:
            return self.flows[row.consultation_id]
        return self.flows[asked] if asked in self.flows else self.flows[self.default]

    async def _apply(self, tx, message: InboundMessage) -> None:
        row = await conversations.current(tx, message.participant_id)
        flow = self._flow_for(row, message)
        session = None
        if row is not None and row.consultation_id == flow.id:
            session = Session.from_dict(row.state)
        elif row is not None:
            # Another consultation is asked for: the new one starts from scratch.
            row = None
        media = bool(message.payload.get("media"))
        inbound = Inbound(message.text, message.received_at, media=media)
        turn = engine.advance(flow, session, inbound)
        now = self.clock()
        position = 0
        for event in turn.events:
            if isinstance(event, engine.FlowStarted):
                row = await conversations.open_session(
                    tx, message.participant_id, flow.id, turn.session.to_dict(),
                    turn.session.status, now)
            elif isinstance(event, engine.AnswerRecorded):
                await conversations.record_answer(tx, row, event.question, event.raw,
                                                  event.value, event.valid, now)
                _derive(row, flow.question(event.question).purpose, event.value)
            elif isinstance(event, engine.FlowRestarted | engine.ConsentRefused):
                await conversations.clear_answers(tx, row)
            elif isinstance(event, engine.ErasureConfirmed):
                await conversations.erase_participant(tx, message.participant_id)
                audit.record(tx, actor="participant", action="participant.erased",
                             target=f"participant:{message.participant_id}", at=now)
                row = None
            elif isinstance(event, engine.ParticipantStopped):
                await participants.set_stopped(tx, message.participant_id, now)
                await outbox.cancel_pending(tx, message.participant_id, "participant stopped")
            elif isinstance(event, engine.ParticipantRestarted):
                await participants.set_stopped(tx, message.participant_id, None)
            elif isinstance(event, engine.DataRequested):
                held = await conversations.answers_of(tx, message.participant_id)
                self._reply(tx, message, position, data_summary(held), now)
                position += 1
            elif isinstance(event, engine.FlowFailed):
                log.error("consultation %s : %s", flow.id, event.reason)
            elif isinstance(event, engine.ReplySent):
                stopped = turn.session.status is Status.STOPPED
                kind = outbox.OPT_OUT_CONFIRMATION if stopped else "reply"
                self._reply(tx, message, position, event.text, now, event.choices, kind,
                            event.question)
                position += 1
        if row is not None:
            conversations.save_state(row, turn.session.to_dict(), turn.session.status, now)

    def _reply(self, tx, message: InboundMessage, position: int, text: str, now: datetime,
               choices: tuple = (), kind: str = "reply", question: str | None = None) -> None:
        outbox.enqueue(tx, participant_id=message.participant_id, channel=message.channel,
                       text=text, at=now, choices=[list(c) for c in choices],
                       question_id=question, inbound_id=message.id, position=position, kind=kind)


def _derive(row: ConsultationSession, purpose: Purpose | None, value: object) -> None:
    """Copies answers that describe the participant onto the session, for aggregates."""
    if purpose is Purpose.TERRITORY:
        row.territory = value
    elif purpose is Purpose.AGE_BAND:
        row.age_band = value
    elif purpose is Purpose.FEEDBACK_OPT_IN:
        row.feedback_opt_in = value


def data_summary(held: list[tuple[str, str, str]]) -> str:
    """Returns the French answer to MES DONNEES: what Relais holds about the person."""
    if not held:
        return ("Nous ne gardons aucune réponse de vous. Votre numéro ou compte est conservé "
                "chiffré, seulement pour vous répondre.")
    lines = ["Voici vos réponses enregistrées :"]
    for title, question, raw in held:
        lines.append(f"- {title}, {question} : {raw[:80]}")
    lines.append("Envoyez SUPPRIMER pour tout effacer.")
    return "\n".join(lines)
