"""Participants and their encrypted addresses."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import tallies
from storage.inserts import insert_ignoring_duplicates
from storage.tables import Identity, Participant
from storage.vault import Vault


async def ids_of(tx: AsyncSession, vault: Vault, addresses: set[tuple[str, str]],
                 now: datetime) -> dict[tuple[str, str], int]:
    """Returns the participant id of each (channel, address), creating the missing ones."""
    wanted = {vault.pseudonym(channel, address): (channel, address)
              for channel, address in addresses}
    known = dict((await tx.execute(select(Participant.pseudonym, Participant.id)
                                   .where(Participant.pseudonym.in_(wanted)))).all())
    missing = [pseudonym for pseudonym in wanted if pseudonym not in known]
    if missing:
        # Concurrent webhooks (or processes) may create the same person: the unique
        # pseudonym keeps one row, and everyone reads it back.
        await tx.execute(
            insert_ignoring_duplicates(tx, Participant.__table__, None, ["pseudonym"]),
            [{"pseudonym": p, "channel": wanted[p][0], "created_at": now} for p in missing])
        created = dict((await tx.execute(select(Participant.pseudonym, Participant.id)
                                         .where(Participant.pseudonym.in_(missing)))).all())
        await tx.execute(
            insert_ignoring_duplicates(tx, Identity.__table__, None, ["participant_id"]),
            [{"participant_id": pid, "address_ciphertext": vault.seal(wanted[p][1])}
             for p, pid in created.items()])
        known.update(created)
    return {wanted[pseudonym]: pid for pseudonym, pid in known.items()}


async def by_pseudonym(tx: AsyncSession, pseudonym: str) -> Participant | None:
    """Returns the participant with this pseudonym, if any."""
    return await tx.scalar(select(Participant).where(Participant.pseudonym == pseudonym))


async def addresses_of(tx: AsyncSession, vault: Vault,
                       participant_ids: set[int]) -> dict[int, str]:
    """Returns the decrypted addresses of participants; the erased are missing."""
    rows = await tx.execute(select(Identity.participant_id, Identity.address_ciphertext)
                            .where(Identity.participant_id.in_(participant_ids)))
    return {pid: vault.open(ciphertext) for pid, ciphertext in rows}


async def set_stopped(tx: AsyncSession, participant_id: int, at: datetime | None) -> None:
    """Records that a participant opted out (a time) or came back (None)."""
    await tx.execute(update(Participant).where(Participant.id == participant_id)
                     .values(stopped_at=at))


async def referrals_of(tx: AsyncSession,
                       participant_ids: list[int]) -> dict[int, tuple[int | None, bool]]:
    """Returns, for each participant, the association that brought them and whether they are
    being asked which one did."""
    rows = await tx.execute(select(Participant.id, Participant.association_id,
                                   Participant.asked_association_at)
                            .where(Participant.id.in_(participant_ids)))
    return {pid: (association_id, asked_at is not None) for pid, association_id, asked_at in rows}


async def set_referral(tx: AsyncSession, participant_id: int, **values: object) -> None:
    """Records how a participant came: some of invite_code, association_id and
    asked_association_at (when they were asked which association sent them, or None)."""
    if "association_id" in values:  # their sessions now count for that association
        await tallies.touch_participants(tx, [participant_id])
    await tx.execute(update(Participant.__table__)
                     .where(Participant.__table__.c.id == participant_id).values(**values))
