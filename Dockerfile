FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN MODELSHIP_DATA_DIR=/tmp/build SECRET_KEY=build python manage.py collectstatic --noinput
