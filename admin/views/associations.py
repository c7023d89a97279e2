"""Associations: their invites, their reach per consultation, and printable invite flyers."""

import re
from dataclasses import dataclass

from aiohttp import web

from admin import auth
from admin import qr as qr_code
from admin.consultations import all_consultations
from admin.ids import parse_id
from admin.pages import config, render
from storage import catalog, invites, reach
from storage.tables import Association, Invite

routes = web.RouteTableDef()

_CODE = re.compile(r"[A-Z0-9]{1,16}")


@dataclass(frozen=True)
class Row:
    """One association's invites and reach in one consultation."""

    consultation_id: str
    title: str
    invites: list[Invite]
    funnel: reach.Funnel | None


@routes.get("/associations")
@auth.requires("official")
async def listing(request: web.Request) -> web.StreamResponse:
    """Shows every association with its invites and reach per consultation."""
    titles = await _titles(request)
    async with config(request).db.read() as tx:
        associations = await invites.all_associations(tx)
        funnels = await reach.funnels(tx)
        rows = {a.id: _rows(await invites.invites_of(tx, a.id),
                            [f for f in funnels if f.association_id == a.id], titles)
                for a in associations}
    return render(request, "associations.html", {"associations": associations, "rows": rows})


@routes.get("/associations/{association}")
@auth.requires("official", "association")
async def detail(request: web.Request) -> web.StreamResponse:
    """Shows one association's invites, the form to create one, and its funnel."""
    association = await _allowed_association(request)
    consultations = await all_consultations(request)
    titles = {c.id: c.title for c in consultations}
    async with config(request).db.read() as tx:
        rows = _rows(await invites.invites_of(tx, association.id),
                     await reach.funnels(tx, association.id), titles)
        per_invite = await reach.per_invite(tx, association.id)
    created = request.query.get("cree", "")
    return render(request, "association.html", {
        "association": association, "rows": rows, "consultations": consultations,
        "per_invite": per_invite,
        # Small counts are hidden from association accounts only: officials see every figure.
        "masked": auth.current_user(request).role == "association",
        "channels_ready": _channels_ready(request),
        "created": created if _CODE.fullmatch(created) else None})


def _channels_ready(request: web.Request) -> bool:
    """Tells whether an invite can be answered here: Telegram or SMS configured."""
    make_card = config(request).invite_card
    card = make_card("", "", "AAAAAA") if make_card else None
    return bool(card and (card.telegram_link or card.sms_instruction))


@routes.post("/associations/{association}/invitations")
@auth.requires("official", "association")
async def create(request: web.Request) -> web.StreamResponse:
    """Creates an invite of this association for a consultation."""
    association = await _allowed_association(request)
    form = await request.post()
    consultation_id = str(form.get("consultation", ""))
    settings = config(request)
    if settings.new_invite_code is None:
        raise web.HTTPServiceUnavailable(text="La création d'invitations n'est pas disponible.")
    async with settings.db.transaction() as tx:
        if await catalog.consultation(tx, consultation_id) is None:
            raise web.HTTPBadRequest(text="Choisissez une consultation publiée.")
        try:
            invite = await invites.draw_invite(
                tx, association.id, consultation_id, settings.new_invite_code,
                settings.clock(), actor=auth.current_user(request).actor,
                name=str(form.get("nom", "")), note=str(form.get("note", "")))
        except invites.CodeTaken:
            raise web.HTTPServiceUnavailable(
                text="Aucun code d'invitation libre : réessayez.") from None
    return auth.see_other(f"/admin/associations/{association.id}?cree={invite.code}")


@routes.post(r"/invitations/{code:[A-Za-z0-9]{1,16}}/{action:desactiver|reactiver}")
@auth.requires("official", "association")
async def switch(request: web.Request) -> web.StreamResponse:
    """Turns an invite off (its code no longer brings anyone) or on again."""
    settings = config(request)
    active = request.match_info["action"] == "reactiver"
    async with settings.db.transaction() as tx:
        invite = await invites.any_invite(tx, request.match_info["code"])
        if invite is None:
            raise web.HTTPNotFound(text="Invitation inconnue.")
        _check_access(request, invite.association_id)
        await invites.set_active(tx, invite, active, settings.clock(),
                                 auth.current_user(request).actor)
        association_id = invite.association_id
    return auth.see_other(f"/admin/associations/{association_id}#invitations")


@routes.get("/invitations/{code}/affiche")
@auth.requires("official", "association")
async def flyer(request: web.Request) -> web.StreamResponse:
    """Shows the printable A4 flyer of an invite: QR code, Telegram link, SMS keyword, text."""
    async with config(request).db.read() as tx:
        invite = await invites.invite_by_code(tx, request.match_info["code"])
        if invite is None:
            raise web.HTTPNotFound(text="Invitation inconnue ou révoquée.")
        _check_access(request, invite.association_id)
        association = await invites.association_by_id(tx, invite.association_id)
        consultation = await catalog.consultation(tx, invite.consultation_id)
    title = consultation.title if consultation is not None else invite.consultation_id
    make_card = config(request).invite_card
    card = make_card(association.name, title, invite.code) if make_card else None
    qr = qr_code.svg(card.qr_content, f"QR code de l'invitation {invite.code}") \
        if card and card.qr_content else None
    return render(request, "affiche.html", {"invite": invite, "association": association,
                                            "title": title, "card": card, "qr": qr})


async def _allowed_association(request: web.Request) -> Association:
    """Returns the association of the URL if the signed-in person may see it; 404 otherwise."""
    association_id = parse_id(request.match_info["association"])
    if association_id is None:  # "²", "٣", a number past any row: no association
        raise web.HTTPNotFound(text="Association inconnue.")
    _check_access(request, association_id)
    async with config(request).db.read() as tx:
        association = await invites.association_by_id(tx, association_id)
    if association is None:
        raise web.HTTPNotFound(text="Association inconnue.")
    return association


def _check_access(request: web.Request, association_id: int) -> None:
    """Lets officials see every association, an association only its own (404 otherwise:
    nobody learns which other associations exist)."""
    user = auth.current_user(request)
    if user.role != "official" and user.association_id != association_id:
        raise web.HTTPNotFound(text="Association inconnue.")


async def _titles(request: web.Request) -> dict[str, str]:
    return {c.id: c.title for c in await all_consultations(request)}


def _rows(found: list[Invite], funnels: list[reach.Funnel], titles: dict[str, str]) -> list[Row]:
    """Groups invites and funnels per consultation, in the order of the consultations."""
    ids = list(titles)
    ids += sorted(({i.consultation_id for i in found} | {f.consultation_id for f in funnels})
                  - set(ids))
    rows = []
    for consultation_id in ids:
        mine = [i for i in found if i.consultation_id == consultation_id]
        funnel = next((f for f in funnels if f.consultation_id == consultation_id), None)
        if mine or funnel:
            rows.append(Row(consultation_id, titles.get(consultation_id, consultation_id),
                            mine, funnel))
    return rows
