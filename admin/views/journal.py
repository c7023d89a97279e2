"""The audit log, read-only, for the admin role."""

from aiohttp import web

from admin import auth
from admin import journal_words as words
from admin.filters import page_number
from admin.pages import config, render
from storage import audit

routes = web.RouteTableDef()

PAGE_SIZE = 50


@routes.get("/journal")
@auth.requires("admin")
async def journal(request: web.Request) -> web.StreamResponse:
    """Shows the audit log, newest first, 50 entries a page, filtered by action prefix."""
    prefix = request.query.get("action", "").strip()[:60]
    page = page_number(request.query)
    async with config(request).db.read() as tx:
        total = await audit.count(tx, prefix)
        entries = await audit.entries(tx, prefix, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        actions = await audit.actions(tx)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise web.HTTPNotFound(text="Cette page du journal n'existe pas.")
    # The filter offers each action and each family of actions ("login", "user", …).
    families = sorted({a.split(".")[0] for a in actions} | set(actions))
    return render(request, "journal.html", {
        "entries": entries, "total": total, "page": page, "pages": pages, "prefix": prefix,
        "families": [(f, words.family(f)) for f in families], "words": words})
