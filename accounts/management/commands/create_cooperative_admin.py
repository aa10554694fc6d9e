"""`python manage.py create_cooperative_admin <username> --password <pw> [--email <e>]`

Creates the user, or updates an existing one (new password, e-mail if given), and grants the
cooperative-admin permission through `accounts.services.user_set_admin`. Cooperative admins
belong to no company, so a company member is refused rather than silently promoted.
"""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from accounts.models import User
from accounts.services import user_set_admin
from core.services import audit_record


class Command(BaseCommand):
    help = "Create a cooperative admin, or update an existing one's password and grant the permission."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--password", help="The new password. Without it the command asks for it (interactive terminals only)."
        )
        parser.add_argument("--email", help="E-mail address (kept unchanged on an existing user when omitted).")

    def handle(self, *args, username: str, password: str | None, email: str | None, **options) -> None:
        username = username.strip()
        try:
            User.username_validator(username)
        except ValidationError as exc:
            raise CommandError(f"Invalid username {username!r}: {' '.join(exc.messages)}") from None
        if email is not None:
            email = email.strip()
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"Invalid e-mail address {email!r}.") from None
        if password is None:
            password = self._ask_password()

        with transaction.atomic():
            user = User.objects.select_for_update().filter(username=username).first()
            created = user is None
            if created:
                if User.objects.filter(username__iexact=username).exists():
                    raise CommandError(f"A user named {username!r} exists with different capitalisation.")
                user = User(username=username, email=email or "")
            elif user.company_id is not None:
                raise CommandError(
                    f"User {username!r} belongs to the company {user.company}; cooperative admins belong to none. "
                    "Choose another username."
                )
            elif email is not None:
                user.email = email
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(f"Password refused: {' '.join(exc.messages)}") from None
            was_admin = not created and user.is_cooperative_admin
            reactivated = not created and not user.is_active
            user.is_active = True
            user.set_password(password)
            user.save()
            user_set_admin(user=user)
            if not was_admin:
                # Granting the power to review and suspend companies is itself a decision on record.
                audit_record(
                    actor=None,
                    action="user.grant_cooperative_admin",
                    target_type="user",
                    target_id=user.pk,
                    target_label=user.username,
                    after={"is_cooperative_admin": True},
                    reason="manage.py create_cooperative_admin",
                )

        if created:
            self.stdout.write(self.style.SUCCESS(f"Created cooperative admin {username!r}."))
        else:
            notes = ["password reset"]
            if email is not None:
                notes.append("e-mail updated")
            if reactivated:
                notes.append("reactivated")
            if not was_admin:
                notes.append("permission granted")
            self.stdout.write(self.style.SUCCESS(f"Updated cooperative admin {username!r} ({', '.join(notes)})."))

    def _ask_password(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError("Give the password with --password (no terminal to ask on).")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        if not first:
            raise CommandError("The password must not be empty.")
        return first
