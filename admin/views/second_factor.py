"""The second factor (TOTP): typing the code after the password, turning it on and off."""

from aiohttp import web

from admin import auth, qr, second_factor
from admin.pages import config, render
from storage import audit, users

routes = web.RouteTableDef()

CODE_ERROR = "Ce code n'est pas le bon, ou il a déjà servi : attendez le suivant."


@routes.get("/verification")
async def code_form(request: web.Request) -> web.StreamResponse:
    """Asks the code of a session whose password was right (open to it alone: not @requires,
    since that session is not signed in yet)."""
    if auth.pending_user(request) is None:
        raise web.HTTPFound("/admin/" if auth.current_user(request) else "/admin/connexion")
    return _code_page(request, error=None)


@routes.post("/verification")
async def check_code(request: web.Request) -> web.StreamResponse:
    """Checks the code, throttled like the password (per account and per address)."""
    person = auth.pending_user(request)
    if person is None:
        raise web.HTTPFound("/admin/connexion")
    code = str((await request.post()).get("code", ""))[:20]
    counted = await auth.attempt(request, person.email)
    if counted.wait:
        page = _code_page(request, "Trop de tentatives : patientez avant de réessayer.", 429)
        page.headers["Retry-After"] = str(counted.wait)
        return page
    response = await auth.verify_code(request, code, counted)
    return response or _code_page(request, CODE_ERROR, 401)


def _code_page(request: web.Request, error: str | None, status: int = 200) -> web.Response:
    return render(request, "verification.html", {
        "error": error, "code_csrf": auth.pending_user(request).csrf_token,
        "suite": request.query.get("suite", "")}, status=status)


@routes.get("/double-authentification")
@auth.requires("official", "association", "admin")
async def enrolment(request: web.Request) -> web.StreamResponse:
    """Shows the second factor's state: the QR code to scan when it is off, or how to turn
    it off."""
    return await _enrolment_page(request, error=None)


async def _enrolment_page(request: web.Request, error: str | None,
                          status: int = 200) -> web.Response:
    user, settings = auth.current_user(request), config(request)
    context = {"error": error, "required": second_factor.required(settings.second_factor,
                                                                  user.role),
               "enabled": request.query.get("active") == "1",
               "disabled": request.query.get("desactive") == "1",
               "available": settings.seal is not None, "qr": None, "secret": None}
    if not user.second_factor and context["available"]:
        secret = await _candidate(request)
        context["qr"] = qr.svg(second_factor.provisioning_uri(secret, user.email),
                               "QR code à scanner avec votre application d'authentification",
                               scale=4)
        context["secret"] = second_factor.grouped(secret)
    return render(request, "double_authentification.html", context, status=status)


async def _candidate(request: web.Request) -> str:
    """Returns the secret this session is enrolling, drawing one the first time; it stays in
    the session row (encrypted), so reloading the page keeps the code already scanned."""
    settings, token = config(request), request.cookies.get(auth.COOKIE, "")
    async with settings.db.read() as tx:
        session, _account = await users.session_of(tx, token)
    if session.totp_candidate is not None:
        return settings.unseal(session.totp_candidate)
    secret = second_factor.new_secret()
    async with settings.db.transaction() as tx:
        await users.set_totp_candidate(tx, token, settings.seal(secret))
    return secret


@routes.post("/double-authentification")
@auth.requires("official", "association", "admin")
async def enable(request: web.Request) -> web.StreamResponse:
    """Turns the second factor on once a code from the new secret proves the app has it;
    the person's other sessions, opened without it, are closed."""
    user, settings = auth.current_user(request), config(request)
    code = str((await request.post()).get("code", ""))[:20]
    if user.second_factor or settings.seal is None:
        raise web.HTTPFound("/admin/double-authentification")
    token, now = request.cookies.get(auth.COOKIE, ""), settings.clock()
    async with settings.db.read() as tx:
        session, _account = await users.session_of(tx, token)
    sealed = session.totp_candidate
    step = None if sealed is None else second_factor.accepted_step(
        settings.unseal(sealed), code, now, None)
    if step is None:
        return await _enrolment_page(request, CODE_ERROR, 400)
    async with settings.db.transaction() as tx:
        await users.set_totp(tx, user.id, sealed, step)
        await users.set_totp_candidate(tx, token, None)
        await users.close_sessions(tx, user.id, keep=token)
        audit.record(tx, actor=user.actor, action="user.2fa_enabled", target=str(user.id),
                     at=now)
    return auth.see_other("/admin/double-authentification?active=1")


@routes.post("/double-authentification/desactivation")
@auth.requires("official", "association", "admin")
async def disable(request: web.Request) -> web.StreamResponse:
    """Turns the second factor off after a current code (throttled like signing in)."""
    user, settings = auth.current_user(request), config(request)
    code = str((await request.post()).get("code", ""))[:20]
    if not user.second_factor:
        raise web.HTTPFound("/admin/double-authentification")
    counted = await auth.attempt(request, user.email)
    if counted.wait:
        page = await _enrolment_page(request, "Trop de tentatives : patientez avant de "
                                              "réessayer.", 429)
        page.headers["Retry-After"] = str(counted.wait)
        return page
    if not await auth.second_factor_code(request, code, counted):
        return await _enrolment_page(request, CODE_ERROR, 400)
    async with settings.db.transaction() as tx:
        await users.set_totp(tx, user.id, None, None)
        audit.record(tx, actor=user.actor, action="user.2fa_disabled", target=str(user.id),
                     at=settings.clock())
    return auth.see_other("/admin/double-authentification?desactive=1")
