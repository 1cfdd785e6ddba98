# The image every Callcraft service of docker-compose.yml runs: the same pins as `make venv`.

# Front-end assets: htmx from the pinned package-lock.json, as `make assets` does.
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/app/.venv \
    PATH=/app/.venv/bin:$PATH

WORKDIR /app

RUN python -m venv /app/.venv && python -m pip install --quiet --upgrade pip
COPY requirements.lock ./
RUN /app/.venv/bin/pip install --quiet --no-cache-dir -r requirements.lock

COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY api ./api
COPY web ./web
COPY --from=assets /assets/node_modules/htmx.org/dist/htmx.min.js ./web/static/vendor/htmx.min.js
RUN /app/.venv/bin/pip install --quiet --no-cache-dir --no-deps -e .

RUN useradd --create-home callcraft && mkdir -p /app/var && chown callcraft /app/var
USER callcraft

EXPOSE 8000
CMD ["callcraft", "serve", "--host", "0.0.0.0", "--port", "8000"]
