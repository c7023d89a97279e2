"""Feedback to participants (step d): write, preview who receives it, send, follow."""

from dataclasses import dataclass

from aiohttp import web

from admin import auth, consultations
from admin.consultations import CHANNELS, DEPARTEMENTS, Consultation
from admin.ids import parse_id
from admin.pages import config, render
from storage import audit, feedback

routes = web.RouteTableDef()

MAX_TEXT = 1600  # ten SMS segments in GSM-7: a feedback is a message, not a report
WARN_SEGMENTS = 2  # past this many SMS segments, the cost grows and the reading suffers


@dataclass(frozen=True)
class Draft:
    """A feedback message as the form holds it."""

    text: str
    theme: str
    territory: str

    def audience(self, consultation: Consultation) -> feedback.Audience:
        """Returns who the draft is for."""
        return feedback.Audience(consultation.id, self.theme or None, self.territory or None)


@dataclass(frozen=True)
class Preview:
    """Who would receive a draft now, and what it would cost by SMS."""

    total: int
    by_channel: dict[str, int]
    segments: int | None  # None when the SMS length cannot be measured here
    cost_eur: float | None
    too_long: bool
    text: str = ""  # as a Telegram bubble shows it
    sms_parts: tuple[str, ...] = ()  # as a phone receives it, one SMS each


@routes.get("/consultations/{consultation}/retours")
@auth.requires("official")
async def page(request: web.Request) -> web.StreamResponse:
    """Shows the feedback sent in a consultation and the form to write one."""
    consultation = await consultations.get(request)
    sent = request.query.get("envoye", "")
    return await _render(request, consultation, Draft("", "", ""),
                         sent=parse_id(sent),
                         again=request.query.get("deja") == "1")


@routes.post("/consultations/{consultation}/retours")
@auth.requires("official")
async def submit(request: web.Request) -> web.StreamResponse:
    """Previews a draft, or sends it once confirmed."""
    consultation = await consultations.get(request)
    form = await request.post()
    draft = Draft(str(form.get("texte", "")).strip(), str(form.get("theme", "")),
                  str(form.get("territoire", "")))
    problem = _problem(draft, consultation)
    if problem is not None:
        return await _render(request, consultation, draft, error=problem, status=400)
    preview = await make_preview(request, draft.audience(consultation), draft.text)
    if form.get("action") != "envoyer":
        return await _render(request, consultation, draft, preview=preview)
    if form.get("confirmer") != "oui":
        return await _render(request, consultation, draft, preview=preview, status=400,
                             error="Cochez la case de confirmation pour envoyer le message.")
    if preview.total == 0:
        return await _render(request, consultation, draft, preview=preview, status=400,
                             error="Personne ne recevrait ce message : rien n'est envoyé.")
    settings = config(request)
    user = auth.current_user(request)
    try:
        async with settings.db.transaction() as tx:
            message = await feedback.send(tx, draft.audience(consultation), draft.text,
                                          user.email, settings.clock())
            audit.record(tx, actor=user.actor, action="feedback.sent",
                         target=f"feedback:{message.id}", at=settings.clock(),
                         details={"consultation_id": consultation.id, "theme": message.theme,
                                  "territory": message.territory,
                                  "recipients": message.recipients})
    except feedback.AlreadySent as twin:
        # A second click, or the form sent again: the first sending stands, alone.
        return auth.see_other(f"{request.path}?envoye={twin.feedback_id}&deja=1")
    return auth.see_other(f"{request.path}?envoye={message.id}")


def _problem(draft: Draft, consultation: Consultation) -> str | None:
    """Returns what is wrong with a draft, in French, or None."""
    if not draft.text:
        return "Écrivez le message à envoyer."
    if len(draft.text) > MAX_TEXT:
        return f"Le message dépasse {MAX_TEXT} caractères : raccourcissez-le."
    if draft.theme and draft.theme not in consultation.theme_labels:
        return "Thème inconnu pour cette consultation."
    if draft.territory and draft.territory not in DEPARTEMENTS:
        return "Département inconnu."
    return None


async def make_preview(request: web.Request, audience: feedback.Audience,
                       text: str) -> Preview:
    """Counts who would receive a text now, per channel, and what it would cost by SMS."""
    settings = config(request)
    async with settings.db.read() as tx:
        people = await feedback.recipients(tx, audience)
    by_channel = feedback.per_channel(people)
    segments = settings.sms_segments(text) if settings.sms_segments is not None else None
    cost = None if segments is None else \
        segments * by_channel.get("sms", 0) * settings.sms_segment_price_eur
    parts = tuple(settings.sms_parts(text)) if settings.sms_parts is not None else ()
    return Preview(len(people), by_channel, segments, cost,
                   segments is not None and segments > WARN_SEGMENTS, text, parts)


async def _render(request: web.Request, consultation: Consultation, draft: Draft, *,
                  preview: Preview | None = None, error: str | None = None,
                  sent: int | None = None, again: bool = False,
                  status: int = 200) -> web.StreamResponse:
    async with config(request).db.read() as tx:
        history = await feedback.history(tx, consultation.id)
    return render(request, "retours.html", {
        "consultation": consultation, "tab": "retours", "draft": draft, "preview": preview,
        "error": error, "history": history, "sent": sent, "again": again,
        "channels": CHANNELS, "departements": DEPARTEMENTS, "max_text": MAX_TEXT,
        "warn_segments": WARN_SEGMENTS, "euros": euros}, status=status)


def euros(amount: float | None) -> str:
    """Formats an amount the French way: 12,34 €."""
    return "—" if amount is None else f"{amount:,.2f}".replace(",", "\u202f") \
        .replace(".", ",") + "\u00a0€"
