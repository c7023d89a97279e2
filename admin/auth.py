"""Signing in and out, server-side sessions, roles and CSRF tokens of the admin view."""

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import quote

from aiohttp import web

from admin import passwords, second_factor
from admin.config import CONFIG, AdminConfig
from storage import audit, users

log = logging.getLogger(__name__)

COOKIE = "relais_admin"
PRE_COOKIE = "relais_admin_csrf"  # CSRF of the sign-in form, before there is a session
COOKIE_PATH = "/admin"
TOUCH_EVERY = timedelta(seconds=60)  # idle clock moved at most this often: fewer writes
# Failed sign-ins allowed per window: per account (OWASP ASVS 2.2.1: at most 100 an hour)
# and per address (one machine guessing many accounts).
ACCOUNT_LIMITS = ((5, timedelta(minutes=1)), (100, timedelta(hours=1)))
ADDRESS_LIMITS = ((30, timedelta(minutes=1)), (300, timedelta(hours=1)))
KEEP_FAILURES = max(window for _limit, window in ACCOUNT_LIMITS + ADDRESS_LIMITS)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
STATIC_PATH = "/admin/static/"
OPEN_PATHS = ("/admin/connexion", STATIC_PATH)  # served whatever the cookie
VERIFY_PATH = "/admin/verification"  # where the second factor's code is typed
ENROL_PATH = "/admin/double-authentification"
PENDING_PATHS = (VERIFY_PATH, "/admin/deconnexion")  # all a half-signed-in session opens
ENROL_PATHS = (ENROL_PATH, "/admin/deconnexion")  # all a session that must enrol opens

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class User:
    """The signed-in person, as handlers see them."""

    id: int
    email: str
    role: str
    association_id: int | None
    csrf_token: str
    second_factor: bool = False  # whether the account has turned its second factor on

    @property
    def actor(self) -> str:
        """Returns how the audit log names this person."""
        return f"{self.role}:{self.email}"


USER = web.RequestKey("admin_user", User)
PENDING = web.RequestKey("admin_pending_user", User)  # password right, code still awaited


def current_user(request: web.Request) -> User | None:
    """Returns the signed-in person, or None."""
    return request.get(USER)


def pending_user(request: web.Request) -> User | None:
    """Returns the person whose password was right and whose code is awaited, or None."""
    return request.get(PENDING)


def requires(*roles: str) -> Callable[[Handler], Handler]:
    """Lets a handler run only for these roles: others get 403, strangers the sign-in page."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            user = current_user(request)
            if user is None:
                raise web.HTTPFound(f"/admin/connexion?suite={_next(request)}")
            if user.role not in roles:
                raise web.HTTPForbidden(text="Cette page n'est pas ouverte à votre rôle.")
            return await handler(request)

        guarded.roles = roles  # read by the tests that check every route's access rules
        return guarded

    return decorate


def _next(request: web.Request) -> str:
    return quote(request.path_qs, safe="")


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Finds the session of the cookie, enforces the idle and absolute timeouts, and checks
    the CSRF token of every state-changing request."""
    if request.path.startswith(STATIC_PATH):
        return await handler(request)  # public files: no session to read, cacheable
    config = request.config_dict[CONFIG]
    token = request.cookies.get(COOKIE)
    expired = False
    if token:
        user, pending, expired = await _load(config, token)
        if user is not None:
            request[PENDING if pending else USER] = user
    if USER not in request and PENDING not in request and request.path == "/admin/deconnexion":
        return _forget(see_other("/admin/connexion"))  # nothing to sign out of: no CSRF risk
    detour = _detour(request, config)
    if detour is not None:
        return detour
    if request.method not in SAFE_METHODS:
        await _check_csrf(request)
    if expired and request.method in SAFE_METHODS and not request.path.startswith(OPEN_PATHS):
        return _forget(web.Response(status=302, headers={
            "Location": f"/admin/connexion?expiree=1&suite={_next(request)}"}))
    response = await handler(request)
    if expired and COOKIE not in response.cookies:  # unless signing in just set a new one
        _forget(response)
    response.headers["Cache-Control"] = "no-store"  # pages hold citizens' words
    return response


def _detour(request: web.Request, config: AdminConfig) -> web.StreamResponse | None:
    """Sends a session that awaits its second factor's code to the code form, and one that
    must turn the second factor on to the enrolment page, whatever else it asks for."""
    if request.path.startswith(OPEN_PATHS):
        return None
    if PENDING in request and request.path not in PENDING_PATHS:
        return web.Response(status=302 if request.method in SAFE_METHODS else 303,
                            headers={"Location": VERIFY_PATH})
    user = current_user(request)
    if user is not None and not user.second_factor and request.path not in ENROL_PATHS \
            and second_factor.required(config.second_factor, user.role):
        return web.Response(status=302 if request.method in SAFE_METHODS else 303,
                            headers={"Location": ENROL_PATH})
    return None


def _forget(response: web.StreamResponse) -> web.StreamResponse:
    """Asks the browser to drop a session cookie that opens nothing any more."""
    response.del_cookie(COOKIE, path=COOKIE_PATH)
    return response


async def _load(config: AdminConfig, token: str) -> tuple[User | None, bool, bool]:
    """Returns the person of a session token, whether their code is awaited, and whether the
    token was stale. A pending session times out like any other, when idle."""
    now = config.clock()
    async with config.db.read() as tx:
        found = await users.session_of(tx, token)
    if found is None:
        return None, False, True
    session, account = found
    if account.disabled_at is not None or now - session.last_seen_at > config.idle_timeout \
            or now - session.created_at > config.session_lifetime:
        async with config.db.transaction() as tx:
            await users.close_session(tx, token)
        return None, False, True
    if now - session.last_seen_at > TOUCH_EVERY:
        async with config.db.transaction() as tx:
            await users.touch_session(tx, token, now)
    return User(account.id, account.email, account.role, account.association_id,
                session.csrf_token, account.totp_secret is not None), \
        session.second_factor_pending, False


async def _check_csrf(request: web.Request) -> None:
    """Refuses a form whose token is not the session's (or, signing in, the cookie's)."""
    user = current_user(request) or (pending_user(request) if request.path in PENDING_PATHS
                                     else None)
    expected = user.csrf_token if user is not None else request.cookies.get(PRE_COOKIE)
    given = request.headers.get("X-CSRF-Token")
    if given is None and request.content_type in ("application/x-www-form-urlencoded",
                                                  "multipart/form-data"):
        given = (await request.post()).get("csrf")
    if not expected or not isinstance(given, str) \
            or not hmac.compare_digest(given.encode(), expected.encode()):
        raise web.HTTPForbidden(text="Jeton de formulaire absent ou périmé : rechargez la page.")


def sign_in_token(request: web.Request, response: web.StreamResponse) -> str:
    """Returns the CSRF token of the sign-in form, setting its cookie when it is new."""
    token = request.cookies.get(PRE_COOKIE)
    if not token or len(token) != 43:
        token = secrets.token_urlsafe(32)
        _set_cookie(request, response, PRE_COOKIE, token, max_age=3600)
    return token


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str,
                max_age: int | None = None) -> None:
    config = request.config_dict[CONFIG]
    response.set_cookie(name, value, path=COOKIE_PATH, httponly=True, samesite="Lax",
                        secure=config.production, max_age=max_age)


def _address(request: web.Request) -> str:
    """Returns the client's address, with the admin view's trusted proxies."""
    return client_address(request, request.config_dict[CONFIG].trusted_proxies)


def client_address(request: web.Request, trusted: frozenset[str]) -> str:
    """Returns the client's address: X-Forwarded-For is believed only from trusted proxies,
    read from the right, so a client cannot pick the address it is throttled under."""
    address = request.remote or "inconnue"
    if address not in trusted:
        return address
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if hop not in trusted:
            return hop
    return address


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt (password or code), counted as a failure before it is checked."""

    wait: int  # seconds to wait before trying again, when refused; 0 when it may go ahead
    rows: tuple[int, ...] = ()  # the failures recorded for it, forgotten if it proves right


async def attempt(request: web.Request, email: str) -> Attempt:
    """Counts a sign-in attempt for this account and from this address, unless one of their
    limits is reached (then says how long to wait). Unknown and known accounts are counted
    alike. Checking and counting are one step under a lock of the keys, so that of many
    concurrent attempts no more than the limit get to be checked."""
    config = request.config_dict[CONFIG]
    now = config.clock()
    keys = {account_key(config, email): ACCOUNT_LIMITS,
            f"address:{_address(request)}": ADDRESS_LIMITS}
    async with config.db.read() as tx:  # a flood already refused takes no write lock
        if seconds := await _wait(tx, keys, now):
            return Attempt(seconds)
    async with config.db.transaction() as tx:
        await users.lock_failure_keys(tx, list(keys))
        if seconds := await _wait(tx, keys, now):  # counted again, under the lock
            return Attempt(seconds)
        return Attempt(0, tuple(await users.record_failure(tx, list(keys), now)))


async def _wait(tx, keys: dict[str, tuple], now: datetime) -> int:
    """Returns how many seconds attempts under these keys must wait (0: none)."""
    seconds = 0
    for key, limits in keys.items():
        for limit, window in limits:
            latest = await users.recent_failures(tx, key, now - window, limit)
            if len(latest) >= limit:  # free again when the oldest of them leaves the window
                left = (latest[-1] + window - now).total_seconds()
                seconds = max(seconds, int(left) + 1)
    return seconds


def account_key(config: AdminConfig, email: str) -> str:
    """Returns the key failed sign-ins for a typed e-mail are counted under: a keyed hash, so
    the table keeps nothing typed (an e-mail nobody registered, or a password in that field)."""
    return "account:" + config.sign_in_tag(email.strip().lower())


async def sign_in(request: web.Request, email: str, password: str,
                  counted: Attempt) -> web.StreamResponse | None:
    """Checks a password (its attempt already counted) and opens a fresh session; returns the
    redirect, or None when the e-mail and password do not match (the caller shows one message
    for every failure)."""
    config = request.config_dict[CONFIG]
    now = config.clock()
    async with config.db.read() as tx:
        account = await users.by_email(tx, email)
    usable = account is not None and account.disabled_at is None
    valid = await passwords.verify_in_thread(account.password_hash if usable else None,
                                             password)
    # Hashed before the transaction: the database's write lock is not held for a hash.
    rehash = await passwords.hash_in_thread(password) \
        if valid and passwords.needs_rehash(account.password_hash) else None
    async with config.db.transaction() as tx:
        if not valid:  # the attempt stays counted as a failure
            # The account when there is one; nothing of what was typed otherwise.
            audit.record(tx, actor="admin-view", action="login.failed", at=now,
                         target=str(account.id) if account is not None else None)
            return None
        await users.forget_attempt(tx, list(counted.rows))
        # A new token at every sign-in: a cookie planted before cannot ride the session.
        old = request.cookies.get(COOKIE)
        if old:
            await users.close_session(tx, old)
        token = secrets.token_urlsafe(32)
        pending = account.totp_secret is not None
        await users.open_session(tx, token=token, user_id=account.id,
                                 csrf_token=secrets.token_urlsafe(32), at=now,
                                 second_factor_pending=pending)
        audit.record(tx, actor=f"{account.role}:{account.email}",
                     action="login.code_requested" if pending else "login.succeeded", at=now)
        if rehash:  # stronger parameters since
            await users.set_hash(tx, account.id, rehash)
        # Housekeeping at each sign-in keeps both tables small without a background task.
        await users.forget_failures(tx, now - KEEP_FAILURES)
        await users.close_stale_sessions(tx, now - config.idle_timeout,
                                         now - config.session_lifetime)
    landing = _safe_next(request.query.get("suite"))
    if pending:  # the destination waits behind the code form
        landing = f"{VERIFY_PATH}?suite={quote(landing, safe='')}"
    response = see_other(landing)
    _set_cookie(request, response, COOKIE, token)
    response.del_cookie(PRE_COOKIE, path=COOKIE_PATH)
    return response


async def second_factor_code(request: web.Request, code: str, counted: Attempt) -> bool:
    """Checks and uses up a code of the person's second factor (signed in, or awaiting the
    code), its attempt already counted; a wrong, replayed or too old code stays counted as a
    failed sign-in."""
    config = request.config_dict[CONFIG]
    person = current_user(request) or pending_user(request)
    now = config.clock()
    async with config.db.read() as tx:
        account = await users.by_id(tx, person.id)
    step = None
    if account.totp_secret is not None and config.unseal is not None:
        step = second_factor.accepted_step(config.unseal(account.totp_secret), code, now,
                                           account.totp_last_step)
    if step is None:
        return False
    async with config.db.transaction() as tx:
        if not await users.use_totp_step(tx, account.id, step):
            return False
        await users.forget_attempt(tx, list(counted.rows))
    return True


async def verify_code(request: web.Request, code: str,
                      counted: Attempt) -> web.StreamResponse | None:
    """Checks the code of a session awaiting it (its attempt already counted) and, when
    right, replaces the session with a fully signed-in one (a new token); None when the code
    is refused."""
    config = request.config_dict[CONFIG]
    person = pending_user(request)
    right = await second_factor_code(request, code, counted)
    now = config.clock()
    async with config.db.transaction() as tx:
        if not right:
            audit.record(tx, actor=person.actor, action="login.code_failed", at=now)
            return None
        await users.close_session(tx, request.cookies.get(COOKIE, ""))
        token = secrets.token_urlsafe(32)
        await users.open_session(tx, token=token, user_id=person.id,
                                 csrf_token=secrets.token_urlsafe(32), at=now)
        audit.record(tx, actor=person.actor, action="login.succeeded",
                     details={"second_factor": True}, at=now)
    response = see_other(_safe_next(request.query.get("suite")))
    _set_cookie(request, response, COOKIE, token)
    return response


async def change_password(request: web.Request, current: str, new: str,
                          counted: Attempt) -> web.StreamResponse:
    """Replaces the signed-in person's password once the current one (its attempt already
    counted) is right: every session of theirs is closed and this browser gets a fresh one;
    raises ValueError (French) when the current one is wrong or the new one refused."""
    config = request.config_dict[CONFIG]
    user = current_user(request)
    now = config.clock()
    async with config.db.read() as tx:
        account = await users.by_id(tx, user.id)
    if not await passwords.verify_in_thread(account.password_hash, current):
        raise ValueError("Le mot de passe actuel n'est pas le bon.")  # stays counted
    async with config.db.transaction() as tx:  # the current one is right: no guess
        await users.forget_attempt(tx, list(counted.rows))
    passwords.check(new, account.email)
    if await passwords.verify_in_thread(account.password_hash, new):
        raise ValueError("Choisissez un mot de passe différent de l'actuel.")
    new_hash = await passwords.hash_in_thread(new)
    token = secrets.token_urlsafe(32)
    async with config.db.transaction() as tx:
        await users.set_password(tx, account.id, new_hash)
        await users.open_session(tx, token=token, user_id=account.id,
                                 csrf_token=secrets.token_urlsafe(32), at=now)
        audit.record(tx, actor=user.actor, action="user.password_changed",
                     target=str(account.id), at=now)
    response = see_other("/admin/mot-de-passe?modifie=1")
    _set_cookie(request, response, COOKIE, token)
    return response


def see_other(location: str) -> web.Response:
    """Returns a 303 redirect as a response (returned, so cookies can be set on it)."""
    return web.Response(status=303, headers={"Location": location})


def _safe_next(target: str | None) -> str:
    """Keeps a post-login destination inside the admin view (no open redirect)."""
    if target and target.startswith("/admin/") and "\\" not in target \
            and "/." not in target and target.isprintable() and " " not in target:
        return target
    return "/admin/"


async def sign_out(request: web.Request) -> web.StreamResponse:
    """Closes the session server-side and clears the cookie."""
    config = request.config_dict[CONFIG]
    user = current_user(request) or pending_user(request)
    token = request.cookies.get(COOKIE)
    async with config.db.transaction() as tx:
        if token:
            await users.close_session(tx, token)
        if user is not None:
            audit.record(tx, actor=user.actor, action="logout", at=config.clock())
    response = see_other("/admin/connexion")
    response.del_cookie(COOKIE, path=COOKIE_PATH)
    return response
