"""The indicators page of a consultation: each figure with its definition."""

from aiohttp import web

from admin import auth, indicators
from admin.consultations import get
from admin.pages import config, render

routes = web.RouteTableDef()


@routes.get("/consultations/{consultation}/indicateurs")
@auth.requires("official")
async def page(request: web.Request) -> web.StreamResponse:
    """Shows the follow-up indicators, computed from the data at each visit."""
    consultation = await get(request)
    report = await indicators.compute(config(request).db, consultation)
    return render(request, "indicateurs.html", {
        "consultation": consultation, "tab": "indicateurs", "report": report})
