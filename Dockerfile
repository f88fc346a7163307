FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OUTREACH_DATA_DIR=/data \
    OUTREACH_CONFIG=/config/org.toml

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
COPY config ./config
# tzdata comes in as a Python dependency, so time zones work on the slim image.
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data outreach \
    && mkdir -p /data /config \
    && chown outreach /data

USER 10001
VOLUME ["/data"]
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s CMD ["outreach-bot", "health"]
CMD ["outreach-bot", "run"]
