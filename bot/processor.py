"""The processor: runs the engine on stored messages, in order per participant, exactly once."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot import engine, referral
from bot.channels.local import LOCAL_CHANNELS
from bot.engine import Flow, Session
from bot.my_data import MyData
from bot.recording import Recording
from bot.routing import FLOOD_MESSAGES as FLOOD_MESSAGES  # the flood rule, also named here
from bot.routing import FLOOD_REPLY_GAP as FLOOD_REPLY_GAP
from bot.routing import (
    FLOOD_WINDOW,
    AskAssociation,
    Flood,
    Message,
    ReplyToFeedback,
    Routing,
    Run,
    Situation,
    TakeAssociation,
    invite_code,
)
from bot.workers import drain_forever, wait_until
from storage import conversations, feedback, inbox, invites, outbox, participants
from storage.clock import utcnow
from storage.conversations import SessionRecord
from storage.database import Database
from storage.invites import LiveInvite

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a message that fails this often is set aside so others go on
BATCH_PARTICIPANTS = 200
# One transaction, one disk flush, for this many turns at most; small enough that webhooks
# waiting for the write lock behind it stay fast.
BATCH_MESSAGES = 200
IDLE_POLL_SECONDS = 2.0

# Ranks the themes of an answer, likeliest first: (consultation, text) -> themes.
Guess = Callable[[str, str], Awaitable[Sequence[str]]]


@dataclass
class _Batch:
    """What a batch of turns reads up front, by participant, kept up to date as turns go."""

    sessions: dict[int, SessionRecord]  # each participant's latest session
    associations: dict[int, int | None]  # the association that brought each participant
    asked_association: set[int]  # participants asked which association sent them
    floods: dict[int, Flood]
    invites: dict[str, LiveInvite]  # the live invites messages carry, by code as written
    association_ids: dict[str, int]  # by name, in name order; read only when a turn may ask
    erased: set[int]  # participants whose erasure a turn of this batch applied


class Processor:
    """Applies engine turns to pending inbound messages and queues the replies."""

    def __init__(self, db: Database, flows: dict[str, Flow], default_consultation: str,
                 wake: asyncio.Event, replies_queued: asyncio.Event,
                 answers_stored: asyncio.Event, my_data: MyData, guess: Guess | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.flows = flows
        self.my_data = my_data
        self.routing = Routing(flows, default_consultation)
        self.wake = wake
        self.replies_queued = replies_queued
        self.answers_stored = answers_stored  # wakes the classification
        self.guess = guess  # None while no theme model can guess
        self.clock = clock
        self.processed = asyncio.Condition()

    async def run(self) -> None:
        """Processes messages until cancelled, waking when new ones arrive."""
        await drain_forever(self.run_once, self.wake, IDLE_POLL_SECONDS, "traitement")

    async def run_once(self, batch: int = BATCH_PARTICIPANTS) -> int:
        """Processes what is pending now; returns how many messages were handled."""
        async with self.db.read() as tx:
            waiting = await inbox.pending_participants(tx, batch, BATCH_MESSAGES)
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
            messages = [Message(**pending._mapping)
                        for pending in await inbox.pending_of(tx, locked, BATCH_MESSAGES)]
            await self._take_turns(tx, messages)
        return len(messages)

    async def process_next(self, participant_id: int) -> bool:
        """Processes the participant's oldest pending message alone; False when there is none."""
        message_id = None
        try:
            async with self.db.transaction() as tx:
                if not await inbox.lock_participants(tx, [participant_id]):
                    return False  # another process holds this participant
                oldest = await inbox.oldest_pending(tx, participant_id)
                if oldest is None:
                    return False
                message_id = oldest.id
                await self._take_turns(tx, [Message(**oldest._mapping)])
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

    async def _take_turns(self, tx, messages: list[Message]) -> None:
        """Runs the turns of messages, oldest first, and marks them processed."""
        if not messages:
            return
        batch = await self._load(tx, messages)
        recording = Recording(tx, self.my_data)
        for message in messages:
            await self._take_turn(tx, batch, recording, message)
        await recording.flush()
        await inbox.mark_processed(tx, [m.id for m in messages], self.clock(),
                                   forget=_forgettable(messages))

    async def _load(self, tx, messages: list[Message]) -> _Batch:
        """Reads what the turns need for every participant at once: a few queries per batch."""
        ids = list(dict.fromkeys(m.participant_id for m in messages))
        referrals = await participants.referrals_of(tx, ids)
        asking = {pid for pid, (_, asked) in referrals.items() if asked}
        since = min(m.received_at for m in messages) - FLOOD_WINDOW
        recent = await inbox.counts_since(tx, ids, since)
        last_reply = await outbox.last_created_of(tx, ids)
        codes = {code for m in messages if (code := invite_code(m)) is not None}
        names = {}
        if asking or any(m.payload.get("start") for m in messages):
            names = {a.name: a.id for a in await invites.all_associations(tx)}
        return _Batch(
            sessions=await conversations.current_of(tx, ids),
            associations={pid: association for pid, (association, _) in referrals.items()},
            asked_association=asking,
            floods={pid: Flood(recent.get(pid, 0), last_reply.get(pid)) for pid in ids},
            invites=await invites.live_by_codes(tx, codes) if codes else {},
            association_ids=names, erased=set())

    # -- one message

    async def _take_turn(self, tx, batch: _Batch, recording: Recording,
                         message: Message) -> None:
        """Routes one message, then runs its turn or has it recorded otherwise."""
        pid = message.participant_id
        if pid in batch.erased:
            # The erasure emptied every stored message of theirs, this one included.
            message = replace(message, text="", payload={})
        stored = batch.sessions.get(pid)
        state = Session.from_dict(stored.state) if stored is not None else None
        invite = batch.invites.get(invite_code(message))
        if invite is not None and batch.associations[pid] is None:
            await recording.invited(pid, invite)
            batch.associations[pid] = invite.association_id
            batch.asked_association.discard(pid)
        situation = Situation(
            consultation=stored.consultation_id if stored is not None else None, state=state,
            association_id=batch.associations[pid],
            asked_association=pid in batch.asked_association,
            invited_to=invite.consultation_id if invite is not None else None,
            associations=bool(batch.association_ids))
        route = self.routing.route(message, situation)
        if isinstance(route, Run) and invite is not None and message.channel != "sms":
            route = replace(route, inbound=replace(route.inbound,
                                                   relayed_by=invite.association_name))
        if isinstance(route, AskAssociation):
            await recording.association_asked(message, list(batch.association_ids),
                                              self.clock())
            batch.asked_association.add(pid)
            return
        if isinstance(route, TakeAssociation):
            chosen = referral.match(route.answer, list(batch.association_ids))
            if chosen is not None:
                batch.associations[pid] = batch.association_ids[chosen]
            await recording.association_answered(pid, batch.association_ids.get(chosen))
            batch.asked_association.discard(pid)
            route = route.then
        elif isinstance(route, ReplyToFeedback):
            feedback_id = await feedback.latest_sent_to(tx, pid, route.consultation,
                                                        message.received_at)
            if feedback_id is not None:
                await recording.feedback_reply(message, stored, feedback_id, route.text,
                                               self.clock(),
                                               association_id=batch.associations[pid])
                return
            route = route.otherwise
        await self._run(batch, recording, message, route, stored, state)

    async def _run(self, batch: _Batch, recording: Recording, message: Message, route: Run,
                   stored: SessionRecord | None, state: Session | None) -> None:
        """Runs the engine and records its turn."""
        pid = message.participant_id
        flow = self.flows[route.consultation]
        inbound = route.inbound
        if route.guess_theme and self.guess is not None:
            ranked = await self._guess(flow.id, inbound.text)
            inbound = replace(inbound, theme=ranked[0] if ranked else None,
                              alternatives=ranked[1:])
        turn = engine.advance(flow, state if route.resume else None, inbound)
        now = self.clock()
        stored = await recording.turn(
            message, flow, stored if route.resume else None, turn, now,
            silent=route.silent or batch.floods[pid].holds_back(now),
            association_id=batch.associations[pid])
        if stored is None:
            batch.sessions.pop(pid, None)
        else:
            batch.sessions[pid] = stored
        if any(isinstance(event, engine.ErasureConfirmed) for event in turn.events):
            batch.erased.add(pid)

    async def _guess(self, consultation: str, text: str) -> tuple[str, ...]:
        """Ranks the themes of an answer, likeliest first; none when the model fails."""
        try:
            return tuple(await self.guess(consultation, text))
        except Exception:  # a model problem must not stop the conversation
            log.exception("thème non deviné pour %s", consultation)
            return ()


def _forgettable(messages: list[Message]) -> list[int]:
    """Returns the messages whose words need not be kept once their turn is applied: the
    answers keep the one raw copy. The local channels keep theirs for their transcript."""
    return [m.id for m in messages if m.channel not in LOCAL_CHANNELS]
