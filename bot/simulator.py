"""The local web chat at /simulateur: the same inbox path as a real channel, in a browser."""

import hmac
import math
import re
import secrets
import time
from typing import TYPE_CHECKING

import aiohttp_jinja2
from aiohttp import web
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from admin.auth import client_address
from bot.channels.base import IncomingMessage
from bot.channels.local import WEB
from bot.engine import QuestionType
from storage import participants, transcripts
from storage.clock import utcnow

if TYPE_CHECKING:
    from bot.app import Relais

COOKIE = "relais_simulateur"
REPLY_WAIT_SECONDS = 5.0
MAX_TEXT = 4096
# Per client address, counted in this process: a visitor types far fewer messages, and a
# person trying a consultation starts a handful of conversations, not hundreds.
MESSAGES = RateLimitItemPerMinute(20)
CONVERSATIONS = RateLimitItemPerHour(10)
_CONVERSATION = re.compile(r"[A-Za-z0-9_-]{22}")  # what secrets.token_urlsafe(16) gives
_NONCE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_INVITE = re.compile(r"[A-Za-z0-9]{4,16}")  # as on a flyer: /simulateur?invite=AFWEN4
FORGED = "Jeton de formulaire absent ou périmé : rechargez la page du simulateur."


def setup(app: web.Application, relais: "Relais") -> None:
    """Registers the simulator's pages."""
    limiter = MovingWindowRateLimiter(MemoryStorage())
    production = relais.settings.production

    def consultation_of(request: web.Request) -> str:
        asked = request.query.get("consultation", "")
        return asked if asked in relais.flows else relais.settings.default_consultation

    def conversation_of(request: web.Request) -> str | None:
        value = request.cookies.get(COOKIE, "")
        return value if _CONVERSATION.fullmatch(value) else None

    def invite_of(request: web.Request) -> str | None:
        code = request.query.get("invite", "").strip().upper()
        return code if _INVITE.fullmatch(code) else None

    def remember(response: web.StreamResponse, conversation: str) -> None:
        response.set_cookie(COOKIE, conversation, httponly=True, samesite="Lax",
                            secure=production, max_age=30 * 24 * 3600)

    def check_token(request: web.Request, form) -> str:
        """Returns the visitor's conversation when the form carries its token; a form sent
        from elsewhere, or without the cookie, gets 403 and changes nothing."""
        conversation = conversation_of(request)
        given = form.get("csrf")
        if conversation is None or not isinstance(given, str) or not hmac.compare_digest(
                given.encode(), relais.vault.form_token(conversation).encode()):
            raise web.HTTPForbidden(text=FORGED)
        return conversation

    def allow(request: web.Request, limit: RateLimitItem, message: str) -> None:
        address = client_address(request, relais.settings.trusted_proxies)
        if not limiter.hit(limit, "simulateur", address):
            reset = limiter.get_window_stats(limit, "simulateur", address).reset_time
            raise web.HTTPTooManyRequests(text=message, headers={
                "Retry-After": str(max(1, math.ceil(reset - time.time())))})

    async def participant_id(conversation: str) -> int | None:
        pseudonym = relais.vault.pseudonym(WEB, conversation)
        async with relais.db.read() as tx:
            found = await participants.by_pseudonym(tx, pseudonym)
        return found.id if found else None

    async def page(request: web.Request) -> web.Response:
        conversation = conversation_of(request)
        lines = []
        if conversation and (pid := await participant_id(conversation)) is not None:
            async with relais.db.read() as tx:
                lines = await transcripts.transcript(tx, pid)
        fresh = conversation is None
        if fresh:  # the cookie the forms' token is bound to; nothing is stored yet
            conversation = secrets.token_urlsafe(16)
        last = lines[-1] if lines and not lines[-1].from_participant else None
        choices = last.choices if last else []
        flow = relais.flows[consultation_of(request)]
        asked = last.question if last else None
        several = asked in {q.id for q in flow.questions} and \
            flow.question(asked).type is QuestionType.MULTIPLE_CHOICE
        response = aiohttp_jinja2.render_template("simulateur.html", request, {
            "flows": sorted(relais.flows.values(), key=lambda f: f.id),
            "consultation": relais.flows[consultation_of(request)], "lines": lines,
            "choices": choices, "several": several, "asked": asked,
            "invite": invite_of(request),
            "nonce": secrets.token_urlsafe(16),
            "csrf": relais.vault.form_token(conversation),
            "notice": request.query.get("erreur")})
        if fresh:
            remember(response, conversation)
        return response

    async def send(request: web.Request) -> web.Response:
        form = await request.post()
        conversation = check_token(request, form)
        nonce = form.get("nonce")
        if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
            raise web.HTTPBadRequest(text="Formulaire incomplet : rechargez la page du "
                                          "simulateur.")
        allow(request, MESSAGES, "Trop de messages depuis votre adresse : patientez une "
                                 "minute avant d'écrire à nouveau.")
        consultation = consultation_of(request)
        # Ticked boxes of a multiple choice go as their labels, one ";" between each.
        picked = [str(v) for v in form.getall("choix", [])]
        text = (" ; ".join(picked) if picked else str(form.get("text", "")))[:MAX_TEXT]
        asked = str(form.get("question", ""))[:40] or None
        if not text.strip():
            raise web.HTTPSeeOther(f"/simulateur?consultation={consultation}&erreur=vide#fin")
        if await participant_id(conversation) is None:
            allow(request, CONVERSATIONS, "Trop de nouvelles conversations depuis votre "
                                          "adresse : reprenez plus tard.")
        # The nonce of the rendered form is the provider id: a double submit is stored once.
        await relais.converse(IncomingMessage(
            channel=WEB, address=conversation, provider_id=nonce, text=text,
            received_at=utcnow(),
            # A pressed button says which question it answers, as on Telegram.
            payload={"consultation": consultation, **({"question": asked} if asked else {}),
                     **({"invite": invite} if (invite := invite_of(request)) else {})}),
            REPLY_WAIT_SECONDS)
        response = web.HTTPSeeOther(f"/simulateur?consultation={consultation}"
                                    + (f"&invite={invite}" if invite else "") + "#fin")
        remember(response, conversation)  # thirty more days
        raise response

    async def restart(request: web.Request) -> web.Response:
        check_token(request, await request.post())
        response = web.HTTPSeeOther(f"/simulateur?consultation={consultation_of(request)}")
        remember(response, secrets.token_urlsafe(16))
        raise response

    app.router.add_get("/simulateur", page)
    app.router.add_post("/simulateur", send)
    app.router.add_post("/simulateur/nouvelle", restart)
