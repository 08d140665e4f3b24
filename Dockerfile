# creneau in a container: SQLite in the /data volume, config at /config/config.toml.
#   docker build -t creneau .
#   docker run -d --name creneau -v creneau-data:/data -v "$PWD/config.toml:/config/config.toml:ro" \
#     -e NTFY_TOPIC=… creneau
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CRENEAU_CONFIG=/config/config.toml \
    XDG_DATA_HOME=/data \
    TZ=Europe/Paris

RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin creneau \
    && mkdir -p /data /config \
    && chown creneau:creneau /data

# "[postgres]" adds the PostgreSQL driver (docker-compose.yml: several daemons, one database).
ARG CRENEAU_EXTRAS=""
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".${CRENEAU_EXTRAS}" && rm -rf /app

USER creneau
WORKDIR /data
VOLUME ["/data"]

# Unhealthy when no check was recorded for twice the longest interval (plus a minute).
HEALTHCHECK --interval=2m --timeout=20s --start-period=3m --retries=2 \
    CMD ["creneau", "health"]

CMD ["creneau", "run"]
