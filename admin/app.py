"""The admin web view as an aiohttp sub-application mounted at /admin."""

import aiohttp_jinja2
import jinja2
from aiohttp import web

from admin import auth, pages, small_counts
from admin.config import CONFIG, AdminConfig
from admin.consultations import PARIS
from admin.views import ROUTE_TABLES

STATIC = __file__.rsplit("/", 1)[0] + "/static"


def create_app(config: AdminConfig) -> web.Application:
    """Returns the admin sub-application; mount it with `add_subapp("/admin", …)`."""
    app = web.Application(middlewares=[hsts(config.production), pages.errors, auth.sessions])
    app[CONFIG] = config
    environment = aiohttp_jinja2.setup(
        app, loader=jinja2.PackageLoader("admin", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined)
    environment.filters.update(FILTERS)
    environment.tests["masque"] = small_counts.masked  # {% if n is masque %}
    for table in ROUTE_TABLES:
        app.add_routes(table)
    app.router.add_static("/static", STATIC)
    return app


def hsts(production: bool):
    """Returns a middleware that asks browsers for HTTPS only, in production."""

    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        response = await handler(request)
        if production:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    return middleware


def _count(value: int | None) -> str:
    """Formats a count the French way: 12 345."""
    return "—" if value is None else f"{value:,}".replace(",", "\u202f")


def _percent(value: float | None) -> str:
    """Formats a share as a French percentage: 12,5 %."""
    return "—" if value is None else f"{value * 100:.1f}".replace(".", ",") + "\u00a0%"


def _date(value) -> str:
    """Formats a date as dd/mm/yyyy in Paris time."""
    if value is None:
        return "—"
    if hasattr(value, "astimezone"):
        value = value.astimezone(PARIS)
    return value.strftime("%d/%m/%Y")


def _datetime(value) -> str:
    """Formats a time as dd/mm/yyyy hh:mm in Paris time."""
    if value is None:
        return "—"
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def _counted(value: int | None, singular: str, plural: str | None = None) -> str:
    """Formats a count with its noun, singular for 0 and 1 as French has it: 1 réponse."""
    noun = singular if (value or 0) < 2 else (plural or singular + "s")
    return f"{_count(value)} {noun}"


FILTERS = {"count": _count, "counted": _counted, "percent": _percent, "date": _date,
           "datetime": _datetime}
