"""HTTP routes of the bot: health checks, the privacy notice, one's own answers, the public
follow-up and the local simulator."""

import socket
from typing import TYPE_CHECKING

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot import follow_up, heartbeat, simulator
from bot.my_data import Held
from storage import conversations, migrate, workers

if TYPE_CHECKING:
    from bot.app import Relais

STATIC = __file__.rsplit("/", 1)[0] + "/static"
JOURNAL_LAG_SECONDS = 30.0  # a message waiting this long in the local journal is stuck

# No inline script or style anywhere: a hostile answer cannot run in an official's browser.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


async def security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """Adds the security headers every answer carries, errors included (an on_response_prepare
    signal: a middleware never sees the 404, 405 or 500 answers aiohttp makes itself)."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")


def setup(app: web.Application, relais: "Relais") -> None:
    """Registers the bot's routes and templates on the application."""
    aiohttp_jinja2.setup(app, loader=jinja2.PackageLoader("bot", "templates"),
                         autoescape=jinja2.select_autoescape(default=True))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        try:
            await relais.db.ping()
            missing = await migrate.pending(relais.db)
            async with relais.db.read() as tx:
                working = await workers.alive(tx, socket.gethostname(), relais.clock(),
                                              heartbeat.STALE)
        except Exception as error:  # any failure means: do not send traffic here
            return web.json_response({"status": "unavailable",
                                      "reason": type(error).__name__}, status=503)
        if missing:
            return web.json_response({"status": "unavailable",
                                      "reason": "migrations pending"}, status=503)
        # Stored messages would wait unanswered: the system is not ready, even if this
        # process could still take webhooks.
        if not working:
            return web.json_response({"status": "unavailable",
                                      "reason": "no worker alive"}, status=503)
        lag = relais.spool.lag(relais.clock())
        if lag is not None and lag > JOURNAL_LAG_SECONDS:
            return web.json_response({"status": "unavailable",
                                      "reason": f"journal not drained for {lag:.0f} s"},
                                     status=503)
        return web.json_response({"status": "ready", "workers": working})

    @aiohttp_jinja2.template("confidentialite.html")
    async def privacy(_request: web.Request) -> dict:
        return {"flows": sorted(relais.flows.values(), key=lambda f: f.id),
                "dpo": relais.settings.dpo_contact}

    @aiohttp_jinja2.template("accueil.html")
    async def home(_request: web.Request) -> dict:
        return {"simulator": relais.settings.simulator_enabled}

    async def my_data(request: web.Request) -> web.Response:
        # The link MES DONNEES sends: whoever holds it reads the answers for a day, so the
        # page is never stored by a browser or a proxy, indexed, or named in a Referer.
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                   "X-Robots-Tag": "noindex"}
        reader = relais.processor.my_data
        participant_id = reader.participant_of(request.match_info["token"])
        if participant_id is None:
            response = aiohttp_jinja2.render_template(
                "mes_donnees.html", request, {"expired": True}, status=404)
        else:
            async with relais.db.read() as tx:
                rows = await conversations.answers_of(tx, participant_id)
            response = aiohttp_jinja2.render_template(
                "mes_donnees.html", request,
                {"sections": reader.sections([Held(*row) for row in rows])})
        response.headers.update(headers)
        return response

    async def favicon(_request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/static/favicon.svg")

    app.router.add_get("/", home)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/confidentialite", privacy)
    app.router.add_get("/mes-donnees/{token}", my_data)
    app.router.add_static("/static", STATIC)
    follow_up.setup(app, relais)
    if relais.settings.simulator_enabled:
        simulator.setup(app, relais)
