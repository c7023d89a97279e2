"""The signed-in person's own account: changing their password."""

from aiohttp import web

from admin import auth, passwords
from admin.pages import render

routes = web.RouteTableDef()


@routes.get("/mot-de-passe")
@auth.requires("official", "association", "admin")
async def form(request: web.Request) -> web.StreamResponse:
    """Shows the form that changes one's password."""
    return render(request, "mot_de_passe.html", {
        "error": None, "done": request.query.get("modifie") == "1",
        "minimum": passwords.MIN_LENGTH})


@routes.post("/mot-de-passe")
@auth.requires("official", "association", "admin")
async def change(request: web.Request) -> web.StreamResponse:
    """Changes one's password after checking the current one (throttled like signing in)."""
    posted = await request.post()
    current, new = str(posted.get("actuel", "")), str(posted.get("nouveau", ""))
    user = auth.current_user(request)
    if new != str(posted.get("confirmation", "")):  # checked first: no password is tried
        return _error(request, "Les deux saisies du nouveau mot de passe diffèrent.", 400)
    counted = await auth.attempt(request, user.email)
    if counted.wait:
        page = _error(request, "Trop de tentatives : patientez avant de réessayer.", 429)
        page.headers["Retry-After"] = str(counted.wait)
        return page
    try:
        return await auth.change_password(request, current, new, counted)
    except ValueError as error:  # WeakPassword included: its message says why
        return _error(request, str(error), 400)


def _error(request: web.Request, message: str, status: int) -> web.StreamResponse:
    return render(request, "mot_de_passe.html", {
        "error": message, "done": False, "minimum": passwords.MIN_LENGTH}, status=status)


