# The production image: web, workers and migrations run from it (docker-compose.yml). No secret and no
# local state is baked in (.dockerignore keeps .venv, data/ and .env out); it runs as an unprivileged user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MODELSHIP_DATA_DIR=/data STATIC_ROOT=/app/staticfiles HF_HOME=/data/huggingface
WORKDIR /app
RUN groupadd --system --gid 10001 modelship \
 && useradd --system --uid 10001 --gid modelship --home-dir /app --shell /usr/sbin/nologin modelship \
 && mkdir -p /data && chown modelship:modelship /data
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files are collected into the image; the throw-away data dir (and the key generated in it) goes
# in the same layer, so no key is left in the image.
RUN MODELSHIP_DATA_DIR=/tmp/build SECRET_KEY=build-only python manage.py collectstatic --noinput \
 && rm -rf /tmp/build
USER modelship
EXPOSE 8000
