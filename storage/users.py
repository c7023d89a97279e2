"""People who sign in to the admin view, their sessions, and failed sign-ins."""

import hashlib
import re
from datetime import datetime

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import AdminSession, AdminUser, LoginFailure

ROLES = ("official", "association", "admin")
MAX_EMAIL_LENGTH = 254
# First half of the PostgreSQL advisory locks taken on failure keys, the key's hash the other.
_FAILURE_LOCKS = 0x52454C53


class UserExists(ValueError):
    """An account with this e-mail already exists."""


def token_hash(token: str) -> str:
    """Returns what the database keeps of a session token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def normal_email(email: str) -> str:
    """Returns an e-mail address as accounts store it (trimmed, lower-case); raises ValueError
    when it does not look like one."""
    email = email.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s.]+", email):
        raise ValueError(f"adresse e-mail invalide : « {email[:80]} »")
    return email


async def create(tx: AsyncSession, *, email: str, role: str, password_hash: str, at: datetime,
                 association_id: int | None = None) -> AdminUser:
    """Adds an account; raises UserExists when the e-mail is taken, ValueError on bad input."""
    email = normal_email(email)
    if role not in ROLES:
        raise ValueError(f"rôle inconnu : {role}")
    if (role == "association") != (association_id is not None):
        raise ValueError("un compte association, et lui seul, est rattaché à une association")
    if await by_email(tx, email) is not None:
        raise UserExists(email)
    user = AdminUser(email=email, role=role, association_id=association_id,
                     password_hash=password_hash, created_at=at)
    tx.add(user)
    await tx.flush()
    return user


async def by_email(tx: AsyncSession, email: str) -> AdminUser | None:
    """Returns the account with this e-mail, whatever its case."""
    return await tx.scalar(select(AdminUser).where(AdminUser.email == email.strip().lower()))


async def by_id(tx: AsyncSession, user_id: int) -> AdminUser | None:
    """Returns the account with this id."""
    return await tx.get(AdminUser, user_id)


async def all_users(tx: AsyncSession) -> list[AdminUser]:
    """Returns every account, by e-mail."""
    return list(await tx.scalars(select(AdminUser).order_by(AdminUser.email)))


async def set_password(tx: AsyncSession, user_id: int, password_hash: str) -> None:
    """Replaces an account's password hash and signs it out everywhere."""
    await tx.execute(update(AdminUser).where(AdminUser.id == user_id)
                     .values(password_hash=password_hash))
    await tx.execute(delete(AdminSession).where(AdminSession.user_id == user_id))


async def set_hash(tx: AsyncSession, user_id: int, password_hash: str) -> None:
    """Stores a new hash of the same password (stronger parameters); sessions stay open."""
    await tx.execute(update(AdminUser).where(AdminUser.id == user_id)
                     .values(password_hash=password_hash))


async def set_disabled(tx: AsyncSession, user_id: int, at: datetime | None) -> None:
    """Disables (or enables again, with None) an account; a disabled one is signed out."""
    await tx.execute(update(AdminUser).where(AdminUser.id == user_id).values(disabled_at=at))
    if at is not None:
        await tx.execute(delete(AdminSession).where(AdminSession.user_id == user_id))


async def open_session(tx: AsyncSession, *, token: str, user_id: int, csrf_token: str,
                       at: datetime, second_factor_pending: bool = False) -> None:
    """Records a new signed-in browser (half signed in while its second factor is pending)."""
    tx.add(AdminSession(token_hash=token_hash(token), user_id=user_id, csrf_token=csrf_token,
                        created_at=at, last_seen_at=at,
                        second_factor_pending=second_factor_pending))


async def close_sessions(tx: AsyncSession, user_id: int, keep: str | None = None) -> None:
    """Signs an account out everywhere, except the browser of token `keep` when given."""
    query = delete(AdminSession).where(AdminSession.user_id == user_id)
    if keep is not None:
        query = query.where(AdminSession.token_hash != token_hash(keep))
    await tx.execute(query)


async def set_totp_candidate(tx: AsyncSession, token: str, sealed_secret: str | None) -> None:
    """Keeps (or forgets, with None) the encrypted secret a session is enrolling."""
    await tx.execute(update(AdminSession).where(AdminSession.token_hash == token_hash(token))
                     .values(totp_candidate=sealed_secret))


async def set_totp(tx: AsyncSession, user_id: int, sealed_secret: str | None,
                   last_step: int | None) -> None:
    """Turns an account's second factor on (an encrypted secret and the step of the code that
    confirmed it) or off (None, None)."""
    await tx.execute(update(AdminUser).where(AdminUser.id == user_id)
                     .values(totp_secret=sealed_secret, totp_last_step=last_step))


async def use_totp_step(tx: AsyncSession, user_id: int, step: int) -> bool:
    """Records that the code of a time step was used; False when this step or a later one
    already was (a replayed code). One statement, so two requests cannot both win."""
    result = await tx.execute(
        update(AdminUser).where(AdminUser.id == user_id, AdminUser.totp_secret.is_not(None),
                                (AdminUser.totp_last_step.is_(None))
                                | (AdminUser.totp_last_step < step))
        .values(totp_last_step=step))
    return result.rowcount == 1


async def session_of(tx: AsyncSession, token: str) -> tuple[AdminSession, AdminUser] | None:
    """Returns the session of a cookie's token and its account."""
    row = (await tx.execute(
        select(AdminSession, AdminUser).join(AdminUser, AdminUser.id == AdminSession.user_id)
        .where(AdminSession.token_hash == token_hash(token)))).first()
    return None if row is None else (row[0], row[1])


async def touch_session(tx: AsyncSession, token: str, at: datetime) -> None:
    """Moves a session's idle clock."""
    await tx.execute(update(AdminSession).where(AdminSession.token_hash == token_hash(token))
                     .values(last_seen_at=at))


async def close_session(tx: AsyncSession, token: str) -> None:
    """Forgets a session: its cookie no longer opens anything."""
    await tx.execute(delete(AdminSession).where(AdminSession.token_hash == token_hash(token)))


async def close_stale_sessions(tx: AsyncSession, idle_since: datetime,
                               created_since: datetime) -> int:
    """Deletes sessions idle or older than the limits; returns how many."""
    result = await tx.execute(delete(AdminSession).where(
        (AdminSession.last_seen_at < idle_since) | (AdminSession.created_at < created_since)))
    return result.rowcount or 0


async def lock_failure_keys(tx: AsyncSession, keys: list[str]) -> None:
    """Holds the keys until the transaction ends, so that counting their failures and adding
    one is a single step for concurrent sign-ins. PostgreSQL: an advisory lock per key (in
    one order, so two transactions never wait for each other); SQLite has one writer at a
    time already."""
    if tx.bind.dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        await tx.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
                         {"space": _FAILURE_LOCKS, "key": key})


async def record_failure(tx: AsyncSession, keys: list[str], at: datetime) -> list[int]:
    """Counts one failed sign-in against each key (the account, the address); returns the
    ids of the rows, to forget them should the attempt succeed."""
    rows = [LoginFailure(key=key, at=at) for key in keys]
    tx.add_all(rows)
    await tx.flush()
    return [row.id for row in rows]


async def forget_attempt(tx: AsyncSession, ids: list[int]) -> None:
    """Deletes the rows an attempt recorded before it was checked, once it proved right."""
    if ids:
        await tx.execute(delete(LoginFailure).where(LoginFailure.id.in_(ids)))


async def recent_failures(tx: AsyncSession, key: str, since: datetime,
                          limit: int) -> list[datetime]:
    """Returns the times of a key's latest failed sign-ins since a time, newest first, at most
    `limit` of them."""
    return list(await tx.scalars(
        select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at >= since)
        .order_by(LoginFailure.at.desc()).limit(limit)))


async def forget_failures(tx: AsyncSession, before: datetime) -> None:
    """Deletes failed sign-ins too old to matter."""
    await tx.execute(delete(LoginFailure).where(LoginFailure.at < before))
