"""Accounts of the admin view, for the admin role: list, create, disable and enable."""

from aiohttp import web

from admin import auth, passwords
from admin.ids import id_or_404, parse_id
from admin.pages import config, render
from storage import audit, invites, users

routes = web.RouteTableDef()

ROLES = {"official": "Élu·e ou agent", "association": "Association",
         "admin": "Administration des comptes"}


@routes.get("/utilisateurs")
@auth.requires("admin")
async def listing(request: web.Request) -> web.StreamResponse:
    """Lists the accounts, with the form that creates one."""
    return await _page(request, form={"email": "", "role": "official", "association": ""})


async def _page(request: web.Request, form: dict[str, str], error: str | None = None,
                status: int = 200) -> web.StreamResponse:
    async with config(request).db.read() as tx:
        associations = await invites.all_associations(tx)
        accounts = await users.all_users(tx)
    names = {a.id: a.name for a in associations}
    return render(request, "utilisateurs.html", {
        "accounts": [(account, names.get(account.association_id)) for account in accounts],
        "associations": associations, "roles": ROLES, "form": form, "error": error},
        status=status)


@routes.post("/utilisateurs")
@auth.requires("admin")
async def create(request: web.Request) -> web.StreamResponse:
    """Creates an account with a generated passphrase, shown once on the answer page."""
    posted = await request.post()
    form = {name: str(posted.get(name, "")).strip() for name in ("email", "role", "association")}
    try:
        email = users.normal_email(form["email"])
        if form["role"] not in ROLES:
            raise ValueError("Choisissez un rôle.")
        association_id = await _association_id(request, form["role"], form["association"])
    except ValueError as error:
        return await _page(request, form, _sentence(str(error)), status=400)
    # Generated, not typed: the admin never chooses someone else's password, and it is strong.
    password = passwords.generate(email)
    password_hash = await passwords.hash_in_thread(password)
    db, now, actor = config(request).db, config(request).clock(), auth.current_user(request).actor
    try:
        async with db.transaction() as tx:
            account = await users.create(tx, email=email, role=form["role"], at=now,
                                         password_hash=password_hash,
                                         association_id=association_id)
            audit.record(tx, actor=actor, action="user.created", target=str(account.id),
                         details={"email": email, "role": form["role"],
                                  "association_id": association_id}, at=now)
    except users.UserExists:
        return await _page(request, form, f"Un compte existe déjà pour {email}.", status=409)
    return render(request, "utilisateurs_cree.html",
                  {"email": email, "role": ROLES[form["role"]], "password": password})


async def _association_id(request: web.Request, role: str, value: str) -> int | None:
    """Returns the association an account belongs to: required for, and only for, that role."""
    if role != "association":
        if value:
            raise ValueError("Seul un compte association est rattaché à une association.")
        return None
    association_id = parse_id(value)
    if association_id is None:
        raise ValueError("Choisissez l'association de ce compte.")
    async with config(request).db.read() as tx:
        known = {a.id for a in await invites.all_associations(tx)}
    if association_id not in known:
        raise ValueError("Cette association n'existe pas.")
    return association_id


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


@routes.post("/utilisateurs/{user}/desactiver")
@auth.requires("admin")
async def disable(request: web.Request) -> web.StreamResponse:
    """Disables an account and closes its sessions."""
    return await _set_disabled(request, disable=True)


@routes.post("/utilisateurs/{user}/reactiver")
@auth.requires("admin")
async def enable(request: web.Request) -> web.StreamResponse:
    """Enables a disabled account again."""
    return await _set_disabled(request, disable=False)


async def _set_disabled(request: web.Request, disable: bool) -> web.StreamResponse:
    me = auth.current_user(request)
    identifier = id_or_404(request.match_info["user"])
    if disable and identifier == me.id:
        raise web.HTTPBadRequest(text="Vous ne pouvez pas désactiver votre propre compte.")
    db, now = config(request).db, config(request).clock()
    async with db.transaction() as tx:
        account = await users.by_id(tx, identifier)
        if account is None:
            raise web.HTTPNotFound()
        if (account.disabled_at is not None) != disable:
            await users.set_disabled(tx, account.id, now if disable else None)
            audit.record(tx, actor=me.actor, target=str(account.id),
                         action="user.disabled" if disable else "user.enabled",
                         details={"email": account.email}, at=now)
    return auth.see_other("/admin/utilisateurs")
