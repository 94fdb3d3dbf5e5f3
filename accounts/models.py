from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person; logs in with their email address."""

    username = None
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.email


class Organization(models.Model):
    """A workspace: every project, file and job belongs to exactly one."""

    class Plan(models.TextChoices):
        """What the organization pays for; the limits of each are ``accounts.plans.PLAN_LIMITS``."""

        FREE = "free", "Free"
        PRO = "pro", "Pro"
        TEAM = "team", "Team"
        ENTERPRISE = "enterprise", "Enterprise"

    name = models.CharField(max_length=200)
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.FREE)
    is_personal = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    LABELER = "labeler", "Labeler"
    REVIEWER = "reviewer", "Reviewer"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")
        ]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} as {self.role}"


class AuditEvent(models.Model):
    """An append-only record of a state change: who did what to which object, and when."""

    class Action(models.TextChoices):
        """What an event records. Every writer names its action here (``audit_record(action=...)``)."""

        BILLING_CHECKOUT_STARTED = "billing.checkout_started", "Billing checkout started"
        BILLING_PAYMENT_FAILED = "billing.payment_failed", "Billing payment failed"
        CREDITS_ADJUSTMENT = "credits.adjustment", "Credits adjustment"
        CREDITS_GRANT = "credits.grant", "Credits grant"
        CREDITS_PURCHASE = "credits.purchase", "Credits purchase"
        CREDITS_REFUND = "credits.refund", "Credits refund"
        EXPORT_COMPLETED = "export.completed", "Export completed"
        EXPORT_DOWNLOADED = "export.downloaded", "Export downloaded"
        EXPORT_FAILED = "export.failed", "Export failed"
        EXPORT_QUEUED = "export.queued", "Export queued"
        EXPORT_TEMPLATE_CREATED = "export_template.created", "Export template created"
        EXPORT_TEMPLATE_DELETED = "export_template.deleted", "Export template deleted"
        EXPORT_TEMPLATE_UPDATED = "export_template.updated", "Export template updated"
        IMPORT_COMPLETED = "import.completed", "Import completed"
        IMPORT_FAILED = "import.failed", "Import failed"
        IMPORT_QUEUED = "import.queued", "Import queued"
        INVITATION_ACCEPTED = "invitation.accepted", "Invitation accepted"
        INVITATION_CREATED = "invitation.created", "Invitation created"
        INVITATION_REVOKED = "invitation.revoked", "Invitation revoked"
        ITEM_DELETED = "item.deleted", "Item deleted"
        JOB_CANCELLED = "job.cancelled", "Job cancelled"
        JOB_CREATED = "job.created", "Job created"
        LABEL_ISSUE_KEPT = "label_issue.kept", "Label issue kept"
        LABEL_ISSUE_RELABELLED = "label_issue.relabelled", "Label issue relabelled"
        LABEL_ISSUES_FLAGGED = "label_issues.flagged", "Label issues flagged"
        LABEL_SCHEMA_VERSION_CREATED = "label_schema.version_created", "Label schema version created"
        MEMBER_ADDED = "member.added", "Member added"
        MEMBER_REMOVED = "member.removed", "Member removed"
        MEMBER_ROLE_CHANGED = "member.role_changed", "Member role changed"
        ORGANIZATION_CREATED = "organization.created", "Organization created"
        ORGANIZATION_PLAN_CHANGED = "organization.plan_changed", "Organization plan changed"
        PROJECT_ASSIGNMENT_REMOVED = "project.assignment_removed", "Project assignment removed"
        PROJECT_CREATED = "project.created", "Project created"
        PROJECT_DELETED = "project.deleted", "Project deleted"
        PROJECT_LEARNING_SETTINGS_UPDATED = "project.learning_settings_updated", "Project learning settings updated"
        PROJECT_LEARNING_STARTED = "project.learning_started", "Project learning started"
        PROJECT_MEMBER_ASSIGNED = "project.member_assigned", "Project member assigned"
        PROJECT_REVIEW_SETTINGS_UPDATED = "project.review_settings_updated", "Project review settings updated"
        PROJECT_UPDATED = "project.updated", "Project updated"
        REVIEW_DECIDED = "review.decided", "Review decided"
        REVIEW_GOLD_SET = "review.gold_set", "Review gold set"
        REVIEW_UNDONE = "review.undone", "Review undone"
        USER_ADMIN_CREATED = "user.admin_created", "User admin created"
        USER_LOGIN_LOCKED = "user.login_locked", "User login locked"
        USER_LOGGED_OUT_EVERYWHERE = "user.logged_out_everywhere", "User logged out everywhere"
        USER_PASSWORD_CHANGED = "user.password_changed", "User password changed"
        USER_PASSWORD_RESET = "user.password_reset", "User password reset"
        USER_PASSWORD_RESET_REQUESTED = "user.password_reset_requested", "User password reset requested"
        USER_PROFILE_UPDATED = "user.profile_updated", "User profile updated"
        USER_REGISTERED = "user.registered", "User registered"

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["organization", "action", "-created_at"]),
            models.Index(fields=["organization", "actor", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


def _refuse_change(*args, **kwargs):
    raise PermissionError("Audit events are append-only.")


# Append-only: an existing event can be neither saved again nor deleted one by one.
_audit_save = AuditEvent.save


def _audit_save_once(self, *args, **kwargs):
    if self.pk is not None:
        _refuse_change()
    return _audit_save(self, *args, **kwargs)


AuditEvent.save = _audit_save_once
AuditEvent.delete = _refuse_change


class Invitation(models.Model):
    """An invitation to join an organization with a role, sent by email as a single-use link.

    Only a hash of the link's token is stored; the token itself exists in the email alone.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization} as {self.role}"

    def status_at(self, now) -> str:
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at <= now:
            return self.Status.EXPIRED
        return self.Status.PENDING
