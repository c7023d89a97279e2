"""Signing in and out, and the home page each role lands on."""

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from admin import auth
from admin.consultations import TRIAL_CHANNELS, all_consultations
from admin.pages import config, render
from storage import answer_queries, review, stats, visits
from storage.answer_queries import AnswerFilter

routes = web.RouteTableDef()


@routes.get("/connexion")
async def login_form(request: web.Request) -> web.StreamResponse:
    """Shows the sign-in form."""
    if auth.current_user(request) is not None:
        raise web.HTTPFound("/admin/")
    return _form(request, error=None, email="",
                 expired=request.query.get("expiree") == "1")


def _form(request: web.Request, error: str | None, email: str, expired: bool = False,
          status: int = 200) -> web.StreamResponse:
    response = web.Response()  # only to carry the form's CSRF cookie
    token = auth.sign_in_token(request, response)
    page = render(request, "connexion.html",
                  {"error": error, "email": email, "expired": expired, "login_csrf": token,
                   "suite": request.query.get("suite", "")}, status=status)
    for cookie in response.cookies.values():
        page.cookies[cookie.key] = cookie
    return page


@routes.post("/connexion")
async def login(request: web.Request) -> web.StreamResponse:
    """Checks the e-mail and password, throttled per account and per address."""
    form = await request.post()
    email = str(form.get("email", "")).strip()[:254]
    password = str(form.get("password", ""))
    if not email or not password:
        return _form(request, "Indiquez votre adresse e-mail et votre mot de passe.", email,
                     status=400)
    counted = await auth.attempt(request, email)
    if counted.wait:
        wait = counted.wait
        minutes = -(-wait // 60)
        page = _form(request, f"Trop de tentatives : patientez {minutes} minute"
                              f"{'s' if minutes > 1 else ''} avant de réessayer.", email,
                     status=429)
        page.headers["Retry-After"] = str(wait)
        return page
    response = await auth.sign_in(request, email, password, counted)
    if response is None:
        # One message whether the account exists or not: nobody learns who has an account.
        return _form(request, "Adresse e-mail ou mot de passe incorrect.", email, status=401)
    return response


@routes.post("/deconnexion")
async def logout(request: web.Request) -> web.StreamResponse:
    """Signs out."""
    return await auth.sign_out(request)


@routes.get("/")
@auth.requires("official", "association", "admin")
async def home(request: web.Request) -> web.StreamResponse:
    """Sends each role to its own start page."""
    user = auth.current_user(request)
    if user.role == "association":
        raise web.HTTPFound(f"/admin/associations/{user.association_id}")
    if user.role == "admin":
        raise web.HTTPFound("/admin/utilisateurs")
    consultations = await all_consultations(request)
    figures = {}
    async with config(request).db.transaction() as tx:
        seen = await visits.last_seen(tx, user.id, [c.id for c in consultations])
        for consultation in consultations:
            funnel = (await stats.overview(tx, consultation.id, TRIAL_CHANNELS)).funnel
            since = seen.get(consultation.id)
            fresh = await answer_queries.count(tx, AnswerFilter(
                consultation.id, since=since, hidden_channels=TRIAL_CHANNELS,
                text_only=True)) if since else None
            disputed = await review.disputed_count(tx, consultation.id)
            figures[consultation.id] = KeyFigures(funnel.started, funnel.completed,
                                                  funnel.completion_rate, fresh, since,
                                                  disputed)
    return render(request, "accueil.html", {"consultations": consultations,
                                            "figures": figures})


@dataclass(frozen=True)
class KeyFigures:
    """What an official sees first about a consultation."""

    started: int
    completed: int
    completion: float | None
    fresh: int | None  # free-text answers since the last visit; None on a first visit
    since: datetime | None
    disputed: int  # answers whose participant disputed the theme, awaiting review
