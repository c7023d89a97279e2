"""The action plan's CSV file in the admin view: download it, upload it back."""

from aiohttp import web

from admin import auth, plan_csv
from admin.consultations import PARIS
from admin.pages import config
from admin.views.plan import render_plan
from storage import audit

routes = web.RouteTableDef()


@routes.get("/plan/export.csv")
@auth.requires("official")
async def download(request: web.Request) -> web.StreamResponse:
    """Sends the whole plan as the CSV file `relais plan export` writes."""
    settings, user = config(request), auth.current_user(request)
    async with settings.db.read() as tx:
        content, rows = await plan_csv.export(tx)
    async with settings.db.transaction() as tx:
        audit.record(tx, actor=user.actor, action="plan.exported", at=settings.clock(),
                     details={"rows": rows})
    day = settings.clock().astimezone(PARIS).date().isoformat()
    return web.Response(body=content.encode("utf-8"), headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="plan-{day}.csv"'})


@routes.post("/plan/import")
@auth.requires("official")
async def upload(request: web.Request) -> web.StreamResponse:
    """Imports a plan file: all its rows, or none when one is wrong (each listed)."""
    field = (await request.post()).get("fichier")
    if not isinstance(field, web.FileField):
        return await render_plan(request, None, errors=["Choisissez un fichier CSV."], status=400)
    settings, user = config(request), auth.current_user(request)
    async with settings.db.read() as tx:
        rows, problems = await plan_csv.read(tx, field.file.read())
    if problems:
        return await render_plan(request, None, status=400,
                             errors=["Import refusé, une ligne au moins est fausse."]
                             + [str(problem) for problem in problems])
    async with settings.db.transaction() as tx:
        created, updated = await plan_csv.apply(tx, rows, user.actor, settings.clock())
        audit.record(tx, actor=user.actor, action="plan.imported", at=settings.clock(),
                     details={"created": created, "updated": updated})
    return auth.see_other(f"/admin/plan?importe={created}-{updated}")
