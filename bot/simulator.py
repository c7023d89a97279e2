"""The local web chat at /simulateur: the same inbox path as a real channel, in a browser."""

import secrets
from typing import TYPE_CHECKING

import aiohttp_jinja2
from aiohttp import web

from bot.channels.base import IncomingMessage
from bot.channels.local import WEB
from bot.processor import utcnow
from storage import participants, transcripts

if TYPE_CHECKING:
    from bot.app import Relais

COOKIE = "relais_simulateur"
REPLY_WAIT_SECONDS = 5.0
MAX_TEXT = 4096


def setup(app: web.Application, relais: "Relais") -> None:
    """Registers the simulator's pages."""

    def consultation_of(request: web.Request) -> str:
        asked = request.query.get("consultation", "")
        return asked if asked in relais.flows else relais.settings.default_consultation

    async def participant_id(conversation: str) -> int | None:
        pseudonym = relais.vault.pseudonym(WEB, conversation)
        async with relais.db.read() as tx:
            found = await participants.by_pseudonym(tx, pseudonym)
        return found.id if found else None

    @aiohttp_jinja2.template("simulateur.html")
    async def page(request: web.Request) -> dict:
        conversation = request.cookies.get(COOKIE)
        lines = []
        if conversation and (pid := await participant_id(conversation)) is not None:
            async with relais.db.read() as tx:
                lines = await transcripts.transcript(tx, pid)
        choices = lines[-1].choices if lines and not lines[-1].from_participant else []
        return {"flows": sorted(relais.flows.values(), key=lambda f: f.id),
                "consultation": relais.flows[consultation_of(request)], "lines": lines,
                "choices": choices, "nonce": secrets.token_urlsafe(16),
                "notice": request.query.get("erreur")}

    async def send(request: web.Request) -> web.Response:
        form = await request.post()
        consultation = consultation_of(request)
        text = str(form.get("text", ""))[:MAX_TEXT]
        nonce = str(form.get("nonce", ""))
        conversation = request.cookies.get(COOKIE) or secrets.token_urlsafe(16)
        target = f"/simulateur?consultation={consultation}#fin"
        if not text.strip() or not nonce:
            raise web.HTTPSeeOther(f"/simulateur?consultation={consultation}&erreur=vide#fin")
        # The nonce of the rendered form is the provider id: a double submit is stored once.
        await relais.converse(IncomingMessage(
            channel=WEB, address=conversation, provider_id=nonce, text=text,
            received_at=utcnow(), payload={"consultation": consultation}), REPLY_WAIT_SECONDS)
        response = web.HTTPSeeOther(target)
        response.set_cookie(COOKIE, conversation, httponly=True, samesite="Lax",
                            secure=relais.settings.production, max_age=30 * 24 * 3600)
        raise response

    async def restart(request: web.Request) -> web.Response:
        response = web.HTTPSeeOther(f"/simulateur?consultation={consultation_of(request)}")
        response.del_cookie(COOKIE)
        raise response

    app.router.add_get("/simulateur", page)
    app.router.add_post("/simulateur", send)
    app.router.add_post("/simulateur/nouvelle", restart)
