"""Exports of a consultation for officials: the page that lists them, and the files, streamed."""

from urllib.parse import urlencode

from aiohttp import web

from admin import auth, exports, filters
from admin.consultations import get, question_of
from admin.pages import config, record, render

routes = web.RouteTableDef()

KEPT = (*filters.KEYS, "question")  # what the links to the files carry on
NAMES = {"reponses": "Réponses", "themes": "Thèmes", "indicateurs": "Indicateurs"}
# French spreadsheets by default: ";" between cells, a decimal comma, and the byte-order mark
# without which Excel misreads accents; "virgule" and bom=0 give the international format.
DEFAULT_SEPARATOR = "point-virgule"


@routes.get("/consultations/{consultation}/exports")
@auth.requires("official")
async def listing(request: web.Request) -> web.StreamResponse:
    """Lists the exports of the current filters, in each format."""
    consultation = await get(request)
    filters.parse(request.query, consultation)  # a bad filter is refused here, not mid-file
    kept = [(k, v) for k, v in request.query.items() if v and (k in KEPT)]
    options = [(k, v) for k, v in request.query.items() if k in ("separateur", "bom")]
    return render(request, "exports.html", {
        "consultation": consultation, "tab": "exports", "names": NAMES, "kept": kept,
        "query": urlencode(kept), "options": urlencode(options),
        "separator": request.query.get("separateur", DEFAULT_SEPARATOR),
        "bom": request.query.get("bom", "1") == "1"})


@routes.get(r"/consultations/{consultation}/exports/{what:reponses|themes|indicateurs}"
            r".{format:csv|json}")
@auth.requires("official")
async def download(request: web.Request) -> web.StreamResponse:
    """Streams one export as rows are read, then writes what was exported to the audit log."""
    consultation = await get(request)
    what, form = request.match_info["what"], request.match_info["format"]
    separator = request.query.get("separateur", DEFAULT_SEPARATOR)
    if separator not in exports.SEPARATORS or request.query.get("bom", "1") not in ("0", "1"):
        raise web.HTTPBadRequest(text="Options d'export invalides.")
    question = request.query.get("question") or None
    if question is not None:
        question_of(consultation, question)  # 404 for a question of no consultation
    export = exports.Export(
        config(request).db, consultation, what, form,
        filters.parse(request.query, consultation, question),
        separator=exports.SEPARATORS[separator], bom=request.query.get("bom", "1") == "1")
    response = web.StreamResponse(headers={
        "Content-Type": export.media_type,
        "Content-Disposition":
            f'attachment; filename="{export.filename(config(request).clock())}"',
        "Cache-Control": "no-store"})
    await response.prepare(request)
    details = {"what": what, "format": form, "question": question,
               "filters": filters.query_string(request.query)}
    try:
        async for chunk in export.chunks():
            await response.write(chunk)
    except Exception:  # the reader left, or the database failed: say how far it went
        await record(request, "export", consultation.id,
                     {**details, "rows": export.rows, "complete": False})
        raise
    # Recorded before the end of the file: once a download is complete, its entry exists.
    await record(request, "export", consultation.id,
                 {**details, "rows": export.rows, "complete": True})
    await response.write_eof()
    return response
