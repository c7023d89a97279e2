"""Associations and the invite codes they hand out."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.tables import Association, Consultation, Invite

MAX_CODE_LENGTH = 16  # the width of invites.code
DRAWS = 10  # codes drawn before giving up: a collision is already rare


@dataclass(frozen=True)
class LiveInvite:
    """A live invite as a message carries it: whose it is and where it leads."""

    code: str
    association_id: int
    association_name: str
    consultation_id: str


class CodeTaken(ValueError):
    """The invite code is already used (even by a revoked invite); draw another one."""


async def add_association(tx: AsyncSession, name: str, territory: str | None,
                          at: datetime) -> Association:
    """Creates an association; raises ValueError when the name is empty or already used."""
    name = name.strip()
    if not name:
        raise ValueError("le nom de l'association est vide")
    existing = await association_by_name(tx, name)
    if existing is not None:
        raise ValueError(f"l'association « {existing.name} » existe déjà (n° {existing.id})")
    association = Association(name=name, territory=territory, created_at=at)
    tx.add(association)
    await tx.flush()  # the audit entry names the new id
    audit.record(tx, actor="cli", action="association.created", target=str(association.id),
                 details={"name": name, "territory": territory}, at=at)
    return association


async def association_by_name(tx: AsyncSession, name: str) -> Association | None:
    """Returns the association with this name, ignoring case and surrounding spaces."""
    wanted = _name_key(name)
    # SQLite's lower() folds ASCII only ("Élan" ≠ "élan"), so names are compared here; an
    # association list stays small.
    return next((a for a in await all_associations(tx) if _name_key(a.name) == wanted), None)


async def association_by_id(tx: AsyncSession, association_id: int) -> Association | None:
    """Returns the association with this id, or None."""
    return await tx.get(Association, association_id)


async def all_associations(tx: AsyncSession) -> list[Association]:
    """Lists the associations by name."""
    return list(await tx.scalars(select(Association).order_by(Association.name)))


async def create_invite(tx: AsyncSession, association_id: int, consultation_id: str, code: str,
                        at: datetime, actor: str = "cli", name: str | None = None,
                        note: str | None = None) -> Invite:
    """Stores a new invite; raises CodeTaken on a used code, ValueError on unknown targets."""
    code = _normalise(code)
    if not code.isalnum() or not code.isascii() or len(code) > MAX_CODE_LENGTH:
        raise ValueError(f"code d'invitation invalide : « {code} »")
    if await tx.get(Association, association_id) is None:
        raise ValueError(f"association inconnue (n° {association_id})")
    if await tx.get(Consultation, consultation_id) is None:
        raise ValueError(f"consultation non publiée : {consultation_id}")
    # A revoked code stays taken: a person holding it must not land in another association.
    if await tx.get(Invite, code) is not None:
        raise CodeTaken(f"code d'invitation déjà pris : {code}")
    invite = Invite(code=code, association_id=association_id, consultation_id=consultation_id,
                    created_at=at, name=(name or "").strip()[:120] or None,
                    note=(note or "").strip()[:1000] or None)
    tx.add(invite)
    audit.record(tx, actor=actor, action="invite.created", target=code,
                 details={"association_id": association_id, "consultation_id": consultation_id},
                 at=at)
    await tx.flush()
    return invite


async def draw_invite(tx: AsyncSession, association_id: int, consultation_id: str,
                      draw: Callable[[], str], at: datetime, actor: str = "cli",
                      name: str | None = None, note: str | None = None) -> Invite:
    """Stores a new invite under a freshly drawn code, drawing again on the rare collision;
    raises CodeTaken when every draw was taken."""
    for _attempt in range(DRAWS):
        try:
            return await create_invite(tx, association_id, consultation_id, draw(), at, actor,
                                       name, note)
        except CodeTaken:
            continue
    raise CodeTaken(f"aucun code d'invitation libre en {DRAWS} essais")


async def invite_by_code(tx: AsyncSession, code: str) -> Invite | None:
    """Returns the live invite with this code, whatever its case; None if unknown or revoked."""
    code = _normalise(code)
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    return await tx.scalar(select(Invite).where(Invite.code == code,
                                                Invite.revoked_at.is_(None)))


async def any_invite(tx: AsyncSession, code: str) -> Invite | None:
    """Returns the invite with this code, revoked or not."""
    return await tx.get(Invite, _normalise(code)[:MAX_CODE_LENGTH])


async def set_active(tx: AsyncSession, invite: Invite, active: bool, at: datetime,
                     actor: str) -> None:
    """Turns an invite off (its code then starts nothing) or on again, in the journal."""
    invite.revoked_at = None if active else at
    audit.record(tx, actor=actor, action="invite.reactivated" if active else "invite.revoked",
                 target=invite.code, details={"association_id": invite.association_id}, at=at)


async def invites_of(tx: AsyncSession, association_id: int) -> list[Invite]:
    """Lists an association's invites, revoked ones included, oldest first."""
    return list(await tx.scalars(select(Invite).where(Invite.association_id == association_id)
                                 .order_by(Invite.created_at, Invite.code)))


async def live_by_codes(tx: AsyncSession, codes: set[str]) -> dict[str, LiveInvite]:
    """Returns the live invites among these codes, in one query, keyed by the code as given."""
    wanted = {code: _normalise(code) for code in codes}
    wanted = {code: key for code, key in wanted.items() if key and len(key) <= MAX_CODE_LENGTH}
    if not wanted:
        return {}
    rows = await tx.execute(
        select(Invite.code, Invite.association_id, Association.name, Invite.consultation_id)
        .join(Association, Association.id == Invite.association_id)
        .where(Invite.code.in_(set(wanted.values())), Invite.revoked_at.is_(None)))
    found = {row.code: LiveInvite(*row) for row in rows}
    return {code: found[key] for code, key in wanted.items() if key in found}


def _normalise(code: str) -> str:
    return code.strip().upper()


def _name_key(name: str) -> str:
    return name.strip().casefold()
