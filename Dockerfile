# syntax=docker/dockerfile:1
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Unprivileged runtime user; application files stay root-owned (read-only to it).
RUN groupadd --system --gid 10001 nkcinema \
    && useradd --system --uid 10001 --gid nkcinema --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin nkcinema

WORKDIR /app

# Project sources (everything pyproject.toml packages, plus its readme).
COPY pyproject.toml README.md ./
COPY settings.py logs.py metrics.py tracing.py cli.py ./
COPY db/ ./db/
COPY gql/ ./gql/
COPY web/ ./web/
COPY seeds/ ./seeds/
COPY examples/ ./examples/
RUN pip install --no-cache-dir . \
    && rm -rf build ./*.egg-info

# Migrations are run at startup from the working directory (/app).
COPY alembic.ini ./
COPY alembic/ ./alembic/

USER nkcinema:nkcinema

EXPOSE 8000

# python:3.11-slim has no curl/wget; urlopen raises (exit 1) on errors and 4xx/5xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# Database readiness is handled by compose (depends_on: condition: service_healthy).
CMD ["sh", "-c", "nkcinema db upgrade && nkcinema seed && exec nkcinema serve --host 0.0.0.0 --port 8000"]
