"""Create the first admin: ``manage.py createadmin --email a@b.c`` (asks for the password), or
non-interactively from ``MODELSHIP_ADMIN_EMAIL`` and ``MODELSHIP_ADMIN_PASSWORD``."""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from accounts.services import admin_create
from modelship.exceptions import DomainError


class Command(BaseCommand):
    help = "Create (or promote) a platform admin who is also admin of an organization."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=os.environ.get("MODELSHIP_ADMIN_EMAIL"))
        parser.add_argument("--organization", default=os.environ.get("MODELSHIP_ADMIN_ORGANIZATION", ""))
        parser.add_argument("--no-input", action="store_true", help="Read the password from MODELSHIP_ADMIN_PASSWORD.")

    def handle(self, *args, email=None, organization="", no_input=False, **options):
        password = os.environ.get("MODELSHIP_ADMIN_PASSWORD", "")
        if not email:
            if no_input:
                raise CommandError("Set --email or MODELSHIP_ADMIN_EMAIL.")
            email = input("Email: ").strip()
        if not password:
            if no_input:
                raise CommandError("Set MODELSHIP_ADMIN_PASSWORD.")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
        try:
            user = admin_create(email=email, password=password, organization_name=organization)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Admin {user.email} is ready; log in at /admin/ or /api/auth/login."))
