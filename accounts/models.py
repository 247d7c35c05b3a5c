from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class EmailUserManager(UserManager):
    """Users log in with their email address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractUser):
    username = None
    email = models.EmailField(_("email address"), unique=True)
    # The language of the messages this person receives (emails and inbox); pages follow the
    # browser or the language switcher.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs):
        self.email = self.email.lower()
        # `set_password()` leaves the raw password in `_password` until the next save, whatever
        # called it (allauth's change, set and reset, the admin's form, `changepassword`);
        # a silent hash upgrade at sign-in clears it first, and so does not count.
        adding = self._state.adding
        password_changed = self._password is not None
        super().save(*args, **kwargs)
        if adding:
            return
        if password_changed:
            ApiToken.objects.revoke_all(user_id=self.pk, reason="password changed")
        elif not self.is_active:
            ApiToken.objects.revoke_all(user_id=self.pk, reason="account deactivated")

    # Roles are held by `sites.Membership` rows (a higher app): read them through the reverse
    # relation, never by importing it.
    def role_codes(self) -> set[str]:
        if not self.is_authenticated:
            return set()
        cache = getattr(self, "_role_codes", None)
        if cache is None:
            self._load_memberships()
            cache = self._role_codes
        return cache

    def staff_sites(self) -> list[tuple[int, str]]:
        """(pk, name) of the sites where this user is secretary or course nurse, by name.

        Read with the roles, in the same query: the menu's "Planning" costs no query of its own.
        """
        if not self.is_authenticated:
            return []
        if getattr(self, "_staff_sites", None) is None:
            self._load_memberships()
        return self._staff_sites

    def _load_memberships(self) -> None:
        """The roles and the staffed sites of the user, in one query, kept for the request."""
        from accounts.roles import SITE_STAFF_ROLES

        rows = list(self.memberships.values_list("role", "site_id", "site__name"))
        self._role_codes = {role for role, _site, _name in rows}
        self._site_roles = {(role, pk) for role, pk, _name in rows if pk}
        sites = {(pk, name) for role, pk, name in rows if pk and role in SITE_STAFF_ROLES}
        self._staff_sites = sorted(sites, key=lambda site: (site[1], site[0]))

    def site_roles(self) -> set[tuple[str, int]]:
        """(role, site pk) of each of the user's site memberships, read with its roles (the
        same query, kept for the request): `sites.rules.staff_of` asks it for a loaded site."""
        if not self.is_authenticated:
            return set()
        if getattr(self, "_site_roles", None) is None:
            self._load_memberships()
        return self._site_roles

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_codes() & set(roles))

    def requires_mfa(self) -> bool:
        return self.has_role(*settings.RELEVE_MFA_REQUIRED_ROLES)


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user) -> NotificationQuerySet:
        """One's own messages only: an inbox is personal, for staff too."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One message to one person: written in the caller's transaction, delivered by a worker.

    The row is the proof a message exists (its `dedupe_key` is unique: asking twice writes
    nothing more), the recipient's inbox entry, and the state of its email delivery: a
    `queued` row is claimed (`sending`, with `claimed_at`) by one worker, then `sent` or, after
    `MAX_ATTEMPTS`, `failed`. A message whose kind the recipient receives in the inbox only is
    `sent` on the `inapp` channel, without an email.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        INAPP = "inapp", _("Inbox only")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=50)
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    # Only when `notifications/<kind>.html` exists: that email's HTML, rendered with the live
    # context. Otherwise the shared layout wraps `body` when the email is sent.
    html = models.TextField(_("HTML body"), blank=True)
    # The page the message is about (a path, or an absolute URL): the inbox and emails link it.
    link = models.CharField(_("link"), max_length=500, blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=255, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["recipient", "-created_at"], name="inbox_order"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient} ({self.status})"


class NotificationPreference(models.Model):
    """Whether `user` receives `kind` by email too (no row: yes). The inbox gets every kind;
    `accounts.notifications.MANDATORY_KINDS` are emailed whatever this says."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=50)
    email = models.BooleanField(_("by email"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.kind}: {'email' if self.email else 'inbox'}"


class ApiTokenQuerySet(models.QuerySet):
    def live(self, *, now: datetime | None = None) -> ApiTokenQuerySet:
        return self.filter(expires_at__gt=now or timezone.now())

    def revoke_all(self, *, user_id: int, reason: str) -> int:
        """Delete every token of the user (their keys answer 401 from now on)."""
        count, _per_model = self.filter(user_id=user_id).delete()
        if count:
            logger.info("Revoked %s API token(s) of user %s: %s", count, user_id, reason)
        return count


class ApiToken(models.Model):
    """A personal API key (`Authorization: Token <key>`), named, expiring, stored as a hash.

    Why ours and not django-rest-knox 5.1 (installed): knox does allow a swapped model
    (`KNOX_TOKEN_MODEL`, `AbstractAuthToken`), but its app must stay installed for its module to
    import, and then its migrations still create their own `knox_authtoken` table and its admin
    registers that unused model; its digest is the primary key (so it would be the `id` in
    `/auth/tokens/{id}/`); its authentication loads every token of the user on each request to
    prune expired ones; and the MFA rule and `last_used_at` would have to be overridden in its
    authentication class anyway. What we need is small: a random 256-bit key, shown once; a
    SHA-256 digest (a fast hash is enough for a key that random: there is nothing to guess); a
    short clear prefix, to find the row and to let the owner tell keys apart, compared with
    `hmac.compare_digest` on the digest. `accounts.authentication` checks it on every request.
    """

    PREFIX_LENGTH = 8

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, db_index=True)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) · {self.user}"

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def is_expired(self, *, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or timezone.now())
