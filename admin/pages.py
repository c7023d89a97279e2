"""Rendering of admin pages: the template context every page shares, and error pages."""

import logging
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin import filters
from admin.auth import current_user
from admin.config import CONFIG
from storage import audit

log = logging.getLogger(__name__)


def render(request: web.Request, template: str, context: dict[str, Any],
           status: int = 200) -> web.Response:
    """Renders a page with the signed-in user, their CSRF token and the current URL."""
    user = current_user(request)
    context = {"user": user, "csrf": user.csrf_token if user else None,
               "path": request.path, **context}
    return aiohttp_jinja2.render_template(template, request, context, status=status)


async def record(request: web.Request, action: str, target: str | None = None,
                 details: dict | None = None) -> None:
    """Writes an admin action to the audit log, in its own transaction."""
    config = request.config_dict[CONFIG]
    user = current_user(request)
    async with config.db.transaction() as tx:
        audit.record(tx, actor=user.actor if user else "anonyme", action=action,
                     target=target, details=details, at=config.clock())


MESSAGES = {
    400: "La demande est incomplète ou mal formée.",
    403: "Vous n'avez pas accès à cette page.",
    404: "Cette page n'existe pas, ou plus.",
    405: "Cette action n'est pas possible ici.",
    413: "Le formulaire envoyé est trop gros.",
    429: "Trop de tentatives : patientez une minute avant de réessayer.",
}


@web.middleware
async def errors(request: web.Request, handler) -> web.StreamResponse:
    """Turns errors into French pages; a crash shows no trace, only a reference to the log."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        reason = error.text if error.text and not error.text.startswith(str(error.status)) \
            else MESSAGES.get(error.status, error.reason)
        response = _error_page(request, error.status, reason)
        for name in ("Retry-After", "Allow"):
            if name in error.headers:
                response.headers[name] = error.headers[name]
        return response
    except filters.Invalid as error:  # a filter of the URL that makes no sense
        return _error_page(request, 400, str(error))
    except Exception:
        log.exception("erreur dans la vue d'administration (%s %s)", request.method,
                      request.path)
        return _error_page(request, 500, "Une erreur est survenue de notre côté ; elle a été "
                                         "consignée.")


def _error_page(request: web.Request, status: int, message: str) -> web.Response:
    response = render(request, "erreur.html", {"status": status, "message": message},
                      status=status)
    response.headers["Cache-Control"] = "no-store"  # it may show the e-mail and CSRF token
    return response


def config(request: web.Request):
    """Returns the admin configuration of a request."""
    return request.config_dict[CONFIG]
