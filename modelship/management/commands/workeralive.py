"""Exit 0 when a worker on this host has sent a heartbeat recently (a container health check)."""

import socket
import sys
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from modelship.models import WorkerHeartbeat


class Command(BaseCommand):
    help = "Check that a Celery worker on this host is alive."

    def handle(self, *args, **options):
        window = timedelta(seconds=settings.MODELSHIP_HEARTBEAT_SECONDS * 3)
        alive = WorkerHeartbeat.objects.filter(
            hostname__endswith=f"@{socket.gethostname()}", last_seen__gte=timezone.now() - window
        ).exists()
        self.stdout.write("alive" if alive else "no recent heartbeat from this host")
        sys.exit(0 if alive else 1)
