"""The processor: runs the engine on stored messages, in order per participant, exactly once."""

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select

from bot import engine, referral
from bot.channels.local import LOCAL_CHANNELS
from bot.engine import Flow, Inbound, Purpose, QuestionType, Session, Status
from bot.engine.keywords import keyword_of
from bot.engine.text import fold_words
from bot.workers import drain_forever, wait_until
from storage import audit, conversations, feedback, inbox, invites, labels, outbox, participants
from storage.database import Database
from storage.tables import ConsultationSession, InboundMessage, Participant

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a message that fails this often is set aside so others go on
BATCH_PARTICIPANTS = 200
# One transaction, one disk flush, for this many turns at most; small enough that webhooks
# waiting for the write lock behind it stay fast.
BATCH_MESSAGES = 200
IDLE_POLL_SECONDS = 2.0
FLOOD_MESSAGES = 20  # more than this in FLOOD_WINDOW is a flood…
FLOOD_WINDOW = timedelta(minutes=1)
FLOOD_REPLY_GAP = timedelta(seconds=5)  # …answered at most once in this long
_CODE = re.compile(r"[A-Za-z0-9]{4,16}")
FEEDBACK_THANKS = "Merci, votre réponse a bien été transmise à la Région."


def utcnow() -> datetime:
    """Returns the current time, timezone-aware."""
    return datetime.now(UTC)


class _Loaded(NamedTuple):
    """One participant as a batch of turns needs them."""

    participant: Participant
    row: ConsultationSession | None
    flood: "_Flood"


@dataclass
class _Context:
    """What a batch of turns read up front, by participant."""

    participants: dict[int, Participant]
    sessions: dict[int, ConsultationSession]
    recent: dict[int, int]
    last_reply: dict[int, datetime]
    clock: Callable[[], datetime]

    def of(self, participant_id: int) -> _Loaded:
        """Returns one participant's share."""
        flood = _Flood(self.recent.get(participant_id, 0), self.last_reply.get(participant_id),
                       self.clock)
        return _Loaded(self.participants[participant_id], self.sessions.get(participant_id),
                       flood)


class _Flood:
    """Counts one participant's recent messages: past a flood, replies come once in a while."""

    def __init__(self, recent: int, last_reply: datetime | None,
                 clock: Callable[[], datetime]) -> None:
        self.recent = recent
        self.last_reply = last_reply
        self.clock = clock

    def holds_back(self) -> bool:
        """Counts one more message; tells whether its replies must be held back."""
        self.recent += 1
        now = self.clock()
        if self.recent > FLOOD_MESSAGES and self.last_reply is not None \
                and now - self.last_reply < FLOOD_REPLY_GAP:
            return True
        self.last_reply = now
        return False


@dataclass
class _Turn:
    """What one message does before the engine runs: which flow, which input, which replies."""

    flow: Flow
    row: ConsultationSession | None
    inbound: Inbound
    silent: bool = False  # e.g. the person blocked the bot: apply the turn, send nothing


class Processor:
    """Applies engine turns to pending inbound messages and queues the replies."""

    def __init__(self, db: Database, flows: dict[str, Flow], default_consultation: str,
                 wake: asyncio.Event, replies_queued: asyncio.Event,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.flows = flows
        self.default = default_consultation
        self.keywords = {fold_words(f.keyword): f.id for f in flows.values() if f.keyword}
        self.wake = wake
        self.replies_queued = replies_queued
        self.answers_stored = asyncio.Event()  # wakes the classification
        # Set by the app when themes can be guessed: (consultation, text) -> themes, likeliest
        # first.
        self.guess: Callable[[str, str], Awaitable[tuple[str, ...]]] | None = None
        self.clock = clock
        self.processed = asyncio.Condition()

    async def run(self) -> None:
        """Processes messages until cancelled, waking when new ones arrive."""
        await drain_forever(self.run_once, self.wake, IDLE_POLL_SECONDS, "traitement")

    async def run_once(self, batch: int = BATCH_PARTICIPANTS) -> int:
        """Processes what is pending now; returns how many messages were handled."""
        async with self.db.read() as tx:
            waiting = await inbox.pending_participants(tx, batch)
        if not waiting:
            return 0
        try:
            handled = await self._process_together(waiting)
        except Exception:
            # One message breaks the shared transaction: redo the batch one by one, so the
            # faulty message is set aside and the others go through.
            log.warning("lot de %s participants en échec : traitement un par un", len(waiting))
            handled = 0
            for participant_id in waiting:
                while await self.process_next(participant_id):
                    handled += 1
        if handled:
            self.replies_queued.set()
            self.answers_stored.set()
            async with self.processed:
                self.processed.notify_all()
        return handled

    async def _process_together(self, participant_ids: list[int]) -> int:
        """Processes the pending messages of several participants in one transaction."""
        async with self.db.transaction() as tx:
            locked = await inbox.lock_participants(tx, participant_ids)
            messages = await inbox.pending_of(tx, locked, BATCH_MESSAGES)
            by_participant: dict[int, list[InboundMessage]] = {}
            for message in messages:
                by_participant.setdefault(message.participant_id, []).append(message)
            context = await self._load(tx, list(by_participant), messages)
            # Changes are flushed once at commit, not before every statement.
            with tx.sync_session.no_autoflush:
                for participant_id, group in by_participant.items():
                    await self._apply(tx, context.of(participant_id), group)
            await inbox.mark_processed(tx, [m.id for m in messages], self.clock(),
                                       forget=_forgettable(messages))
        return len(messages)

    async def _load(self, tx, participant_ids: list[int],
                    messages: list[InboundMessage]) -> "_Context":
        """Reads what the turns need for every participant at once: a few queries per batch."""
        if not participant_ids:
            return _Context({}, {}, {}, {}, self.clock)
        found = await tx.scalars(select(Participant).where(Participant.id.in_(participant_ids)))
        since = min(m.received_at for m in messages) - FLOOD_WINDOW
        return _Context({p.id: p for p in found},
                        await conversations.current_of(tx, participant_ids),
                        await inbox.counts_since(tx, participant_ids, since),
                        await outbox.last_created_of(tx, participant_ids), self.clock)

    async def process_next(self, participant_id: int) -> bool:
        """Processes the participant's oldest pending message alone; False when there is none."""
        message_id = None
        try:
            async with self.db.transaction() as tx:
                if not await inbox.lock_participants(tx, [participant_id]):
                    return False  # another process holds this participant
                message = await inbox.oldest_pending(tx, participant_id)
                if message is None:
                    return False
                message_id = message.id
                context = await self._load(tx, [participant_id], [message])
                await self._apply(tx, context.of(participant_id), [message])
                await inbox.mark_processed(tx, [message.id], self.clock(),
                                           forget=_forgettable([message]))
        except Exception as error:
            if message_id is None:
                raise
            log.exception("message %s : échec du traitement", message_id)
            async with self.db.transaction() as tx:
                await inbox.record_failure(tx, message_id, repr(error), MAX_ATTEMPTS)
        return True

    async def wait_processed(self, inbound_id: int, seconds: float) -> bool:
        """Waits until a message is processed (or set aside); False on timeout."""
        async def done() -> bool:
            async with self.db.read() as tx:
                return await inbox.status_of(tx, inbound_id) != inbox.PENDING

        return await wait_until(done, self.processed, seconds)

    # -- one message

    async def _apply(self, tx, loaded: "_Loaded", messages: list[InboundMessage]) -> None:
        """Runs the turns of one participant's messages, oldest first."""
        participant, row, flood = loaded
        for message in messages:
            turn = await self._prepare(tx, participant, row, message)
            if turn is None:
                continue
            result = engine.advance(turn.flow, _state(turn.row, turn.flow), turn.inbound)
            row = await self._record(tx, message, turn.flow, turn.row, result,
                                     silent=turn.silent or flood.holds_back(),
                                     association_id=participant.association_id)

    async def _prepare(self, tx, participant: Participant, row: ConsultationSession | None,
                       message: InboundMessage) -> _Turn | None:
        """Picks the consultation and the engine input; None when the message is handled here."""
        state = _state(row)
        busy = state is not None and state.status in (Status.CONSENT, Status.ACTIVE,
                                                      Status.STOPPED)
        payload = message.payload
        text = payload.get("keyword") or message.text
        at = message.received_at
        if payload.get("event") == "blocked":
            flow = self._flow_of(row)
            return _Turn(flow, _same(row, flow), Inbound("STOP", at), silent=True)
        invite = await self._invite(tx, message)
        if invite is not None and participant.association_id is None:
            participant.invite_code = invite.code
            participant.association_id = invite.association_id
            participant.asked_association_at = None
        if not busy:
            asked = self._asked_for(invite, text)
            if asked is not None:
                flow = self.flows[asked]
                return _Turn(flow, _same(row, flow), Inbound("", at))
            if participant.asked_association_at is not None:
                await self._take_association(tx, participant, text)
                return _Turn(self._flow_of(None), None, Inbound("", at))
            if (payload.get("start") and participant.association_id is None
                    and await self._ask_association(tx, participant, message)):
                return None
            wanted = payload.get("consultation")
            if wanted in self.flows and (row is None or row.consultation_id != wanted):
                return _Turn(self.flows[wanted], None, Inbound(text, at))
        if await self._feedback_reply(tx, participant, row, state, message, text):
            return None
        flow = self._flow_of(row)
        ranked = await self._guess(flow, state if _same(row, flow) else None, message, text)
        inbound = Inbound(text, at, media=bool(payload.get("media")) and not text.strip(),
                          question=payload.get("question"),
                          theme=ranked[0] if ranked else None, alternatives=ranked[1:])
        return _Turn(flow, _same(row, flow), inbound,
                     silent=bool(payload.get("answered_by_provider")))

    async def _feedback_reply(self, tx, participant: Participant,
                              row: ConsultationSession | None, state: Session | None,
                              message: InboundMessage, text: str) -> bool:
        """Stores what someone who completed a consultation writes after receiving its
        feedback as their reply to it, and thanks them once; keywords keep their meaning."""
        if row is None or state is None or state.status is not Status.COMPLETED \
                or state.confirming_erasure or not text.strip() or keyword_of(text) is not None \
                or message.payload.get("question") is not None:
            return False
        feedback_id = await feedback.latest_sent_to(tx, participant.id, row.consultation_id,
                                                    message.received_at)
        if feedback_id is None:
            return False
        first = await feedback.record_reply(tx, row, feedback_id, text.strip(), self.clock(),
                                            channel=message.channel,
                                            association_id=participant.association_id)
        if first:
            self._reply(tx, message, 0, FEEDBACK_THANKS, self.clock())
        return True

    async def _guess(self, flow: Flow, state: Session | None, message: InboundMessage,
                     text: str) -> tuple[str, ...]:
        """Ranks the themes of an answer to a confirm_theme question, likeliest first, off
        SMS (it costs a message), when a model is active."""
        if self.guess is None or state is None or state.status is not Status.ACTIVE \
                or state.confirming_theme or state.theme_options or not state.question \
                or message.channel == "sms":
            return ()
        if not flow.question(state.question).confirm_theme or not text.strip():
            return ()
        try:
            return tuple(await self.guess(flow.id, text))
        except Exception:  # a model problem must not stop the conversation
            log.exception("thème non deviné pour %s", flow.id)
            return ()

    def _flow_of(self, row: ConsultationSession | None) -> Flow:
        if row is not None and row.consultation_id in self.flows:
            return self.flows[row.consultation_id]
        return self.flows[self.default]

    def _asked_for(self, invite, text: str) -> str | None:
        """Returns the consultation an invite or an SMS keyword asks for."""
        if invite is not None and invite.consultation_id in self.flows:
            return invite.consultation_id
        return self.keywords.get(fold_words(text))

    async def _invite(self, tx, message: InboundMessage):
        """Finds the invite a message carries: a /start parameter or an SMS's first word."""
        code = message.payload.get("invite")
        if code is None and message.channel == "sms":
            first = message.text.strip().split(maxsplit=1)
            code = first[0] if first else None
        if not code or not _CODE.fullmatch(code):
            return None
        # An unknown code is just a first message: nothing tells the sender it was wrong.
        return await invites.invite_by_code(tx, code)

    async def _ask_association(self, tx, participant: Participant,
                               message: InboundMessage) -> bool:
        names = [a.name for a in await invites.all_associations(tx)]
        if not names:
            return False
        text, choices = referral.question(names)
        participant.asked_association_at = self.clock()
        self._reply(tx, message, 0, text, self.clock(), choices, question=referral.STEP)
        return True

    async def _take_association(self, tx, participant: Participant, answer: str) -> None:
        participant.asked_association_at = None
        names = [a.name for a in await invites.all_associations(tx)]
        chosen = referral.match(answer, names)
        if chosen is not None:
            association = await invites.association_by_name(tx, chosen)
            participant.association_id = association.id

    async def _record(self, tx, message: InboundMessage, flow: Flow,
                      row: ConsultationSession | None, turn: engine.Turn,
                      silent: bool, association_id: int | None = None
                      ) -> ConsultationSession | None:
        """Applies the engine's events (session, answers, opt-out, erasure, replies)."""
        now = self.clock()
        position = 0
        pid = message.participant_id
        for event in turn.events:
            if isinstance(event, engine.FlowStarted):
                row = await conversations.open_session(
                    tx, pid, flow.id, turn.session.to_dict(), turn.session.status, now)
            elif isinstance(event, engine.AnswerRecorded):
                question = flow.question(event.question)
                # One raw copy of free text: raw_text; its value would be a second one.
                value = None if question.type is QuestionType.TEXT else event.value
                await conversations.record_answer(tx, row, event.question, event.raw,
                                                  value, event.valid, now,
                                                  channel=message.channel,
                                                  association_id=association_id)
                await _derive(tx, row, question.purpose, event.value)
            elif isinstance(event, engine.FlowRestarted | engine.ConsentRefused):
                await tx.flush()  # pending changes first, then the bulk delete
                await conversations.clear_answers(tx, row, now)
            elif isinstance(event, engine.ErasureConfirmed):
                await tx.flush()
                await conversations.erase_participant(tx, pid, now)
                audit.record(tx, actor="participant", action="participant.erased",
                             target=f"participant:{pid}", at=now)
                row = None
            elif isinstance(event, engine.ParticipantStopped):
                await participants.set_stopped(tx, pid, now)
                await outbox.cancel_pending(tx, pid, "participant stopped")
            elif isinstance(event, engine.ParticipantRestarted):
                await participants.set_stopped(tx, pid, None)
            elif isinstance(event, engine.ThemeConfirmed | engine.ThemeChosen
                            | engine.ThemeRejected):
                await tx.flush()
                answer_id = await conversations.answer_id(tx, row.id, event.question)
                if answer_id is not None:
                    # A "no" is kept too: it takes the theme off the answer, and the answer
                    # goes to the front of the review queue.
                    await labels.record_person_label(
                        tx, answer_id, event.theme, labels.PARTICIPANT, None, now,
                        negative=isinstance(event, engine.ThemeRejected))
            elif isinstance(event, engine.FlowFailed):
                log.error("consultation %s : %s", flow.id, event.reason)
            elif silent:
                continue
            elif isinstance(event, engine.DataRequested):
                held = await conversations.answers_of(tx, pid)
                self._reply(tx, message, position, data_summary(held), now,
                            kind=outbox.PERSONAL_DATA)
                position += 1
            elif isinstance(event, engine.ReplySent):
                stopped = turn.session.status is Status.STOPPED
                kind = outbox.OPT_OUT_CONFIRMATION if stopped else "reply"
                self._reply(tx, message, position, event.text, now, event.choices, kind,
                            event.question)
                position += 1
        if row is None and turn.session.status is Status.STOPPED:
            # STOP as a very first message: keep the opt-out, so that START can undo it.
            row = await conversations.open_session(
                tx, pid, flow.id, turn.session.to_dict(), turn.session.status, now)
        if row is not None:
            conversations.save_state(row, turn.session.to_dict(), turn.session.status, now)
        return row

    def _reply(self, tx, message: InboundMessage, position: int, text: str, now: datetime,
               choices: tuple = (), kind: str = "reply", question: str | None = None) -> None:
        outbox.enqueue(tx, participant_id=message.participant_id, channel=message.channel,
                       text=text, at=now, choices=[list(c) for c in choices],
                       question_id=question, inbound_id=message.id, position=position, kind=kind)


def _forgettable(messages: list[InboundMessage]) -> list[int]:
    """Returns the messages whose words need not be kept once their turn is applied: the
    answers keep the one raw copy. The local channels keep theirs for their transcript."""
    return [m.id for m in messages if m.channel not in LOCAL_CHANNELS]


def _state(row: ConsultationSession | None, flow: Flow | None = None) -> Session | None:
    if row is None or (flow is not None and row.consultation_id != flow.id):
        return None
    return Session.from_dict(row.state)


def _same(row: ConsultationSession | None, flow: Flow) -> ConsultationSession | None:
    """Keeps the session row only when it belongs to the flow about to run."""
    return row if row is not None and row.consultation_id == flow.id else None


async def _derive(tx, row: ConsultationSession, purpose: Purpose | None, value: object) -> None:
    """Copies answers that describe the participant onto the session, for aggregates."""
    if purpose is Purpose.TERRITORY:
        await conversations.set_territory(tx, row, value)
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
