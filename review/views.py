"""Server-rendered pages: login, the project list, the review page, the project settings, and the
manager page's forms.

The same permissions as the API: a session login; a project of another organization is a 404 and
a role that may not review (or manage) it a 403. The review page talks to the JSON API with the
session and its CSRF token. The manager page itself (its figures are reports) is served by
``analytics.views``; its forms are applied here, by ``manage_form_apply``, with the same services.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie

from accounts.forms import LoginForm
from accounts.models import Role
from accounts.selectors import memberships_for
from labeling.engine import list_models
from labeling.learning.serializers import LearningSettingsSerializer
from labeling.learning.services import LEARNING_STARTED, learning_settings_update, learning_start
from modelship.exceptions import DomainError
from projects.models import Project
from projects.permissions import MANAGERS, PROJECT_REVIEWERS
from projects.schemas import shortcuts_fill
from projects.selectors import schema_categories, schema_current
from projects.serializers import ProjectUpdateSerializer
from projects.services import project_update
from projects.views import project_for_page
from review import selectors, services
from review.serializers import ReviewSettingsSerializer
from review.services import DecisionInput

FORM_INVALID = "Please correct the settings: {errors}"
SETTINGS_SAVED = "Review settings saved."
PROJECT_SETTINGS_SAVED = "Settings saved."
GOLD_SAVED = "Item {item} is now a gold check."
GOLD_CLEARED = "Item {item} is no longer a gold check."
ADJUDICATED = "Item {item} is settled."


class LoginPage(auth_views.LoginView):
    template_name = "login.html"
    form_class = LoginForm
    redirect_authenticated_user = True


class LogoutPage(auth_views.LogoutView):
    pass


@login_required
def project_list_page(request: HttpRequest) -> HttpResponse:
    projects = selectors.review_projects_for(user=request.user)
    for project in projects:
        project.can_review = project.caller_role in PROJECT_REVIEWERS
        project.can_manage = project.caller_role in MANAGERS
    can_create = any(m.role == Role.ADMIN for m in memberships_for(user=request.user))
    return render(request, "projects.html", {"projects": projects, "can_create": can_create})


def _categories(project: Project) -> tuple[object, list]:
    schema = schema_current(project=project)
    return schema, (schema_categories(schema=schema) if schema else [])


@login_required
@ensure_csrf_cookie
def review_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for_page(request, project_id, PROJECT_REVIEWERS)
    schema, categories = _categories(project)
    # Versions saved before keys were given automatically: fill the free keys in here too.
    for category, shortcut in zip(categories, shortcuts_fill([c.shortcut for c in categories]), strict=True):
        category.shortcut = shortcut
    config = {
        "project": project.pk,
        "multiLabel": bool(schema and schema.multi_label),
        "categories": [{"path": c.path, "name": c.name, "shortcut": c.shortcut, "color": c.color}
                       for c in categories],
        "progress": selectors.review_progress(project=project, user=request.user),
        "strategy": request.GET.get("strategy", ""),
        "batch": 5,
    }
    return render(request, "review.html", {
        "project": project, "schema": schema, "categories": categories, "config": config,
        "can_manage": project.caller_role in MANAGERS, "tab": "review",
        "all_keyed": all(c.shortcut for c in categories),
        "keyed": [c for c in categories if c.shortcut],
    })


def _form_errors(errors: dict) -> str:
    return "; ".join(f"{name}: {' '.join(str(m) for m in messages_)}" for name, messages_ in errors.items())


def manage_form_apply(request: HttpRequest, project: Project) -> None:
    """Apply one of the manager page's forms (settings, gold, adjudication, learn now); report the outcome as a
    message. A domain error becomes an error message. The page itself (its figures are reports) is
    served by ``analytics.views.manage_page``."""
    try:
        _manage_form(request, project)
    except DomainError as exc:
        messages.error(request, exc.message)


def _manage_form(request: HttpRequest, project: Project) -> None:
    form = request.POST.get("form")
    if form == "settings":
        data = ReviewSettingsSerializer(data=request.POST)
        if not data.is_valid():
            messages.error(request, FORM_INVALID.format(errors=_form_errors(data.errors)))
            return
        services.review_settings_update(project=project, actor=request.user, **data.validated_data)
        messages.success(request, SETTINGS_SAVED)
    elif form == "gold":
        item_id = request.POST.get("item", "")
        labels = None if request.POST.get("clear") else request.POST.getlist("labels")
        services.gold_set(actor=request.user, project=project, item_id=int(item_id) if item_id.isdigit() else 0,
                          labels=labels)
        messages.success(request, (GOLD_CLEARED if labels is None else GOLD_SAVED).format(item=item_id))
    elif form == "adjudicate":
        item_id = request.POST.get("item", "")
        answer = request.POST.get("answer", "")
        decision = DecisionInput(
            item_id=int(item_id) if item_id.isdigit() else 0,
            decision="reject" if answer == services.REJECTED else "modify",
            labels=None if answer == services.REJECTED else [label for label in answer.split("\n") if label],
        )
        services.decision_submit(user=request.user, project=project, decision=decision, actor_role=project.caller_role)
        messages.success(request, ADJUDICATED.format(item=item_id))
    elif form == "learn":
        learning_start(project=project, actor=request.user)
        messages.success(request, LEARNING_STARTED)


# The settings page: each section's fields, its label on the page (also in error messages), and
# the service that saves it (the API's: PATCH /api/projects/{id}, /api/projects/{id}/learning, /api/review/settings).
PROJECT_FIELDS = ("name", "description", "deadline", "default_model", "auto_accept_threshold", "review_policy",
                  "qa_sample_rate")
LEARNING_FIELDS = ("target_precision", "precision_delta", "strict_precision", "audit_slice_size", "learn_first",
                   "learn_every")
NULLABLE_FIELDS = ("deadline", "auto_accept_threshold")
DOMAIN_FIELDS = {"strategy": "queue_strategy"}  # a service's name for a field, as the page names it
SETTING_LABELS = {
    "name": "Name", "description": "Description", "deadline": "Deadline", "default_model": "Model",
    "target_precision": "Target precision", "precision_delta": "Risk the guarantee fails (δ)",
    "strict_precision": "Strict", "auto_accept_threshold": "Auto-accept threshold",
    "audit_slice_size": "Audit sample size", "learn_first": "First learning round after",
    "learn_every": "Then learn every", "review_policy": "Review policy", "qa_sample_rate": "QA sample",
    "queue_strategy": "Queue order", "lease_seconds": "Lease", "overlap_fraction": "Share of items overlapped",
    "overlap_reviewers": "Reviewers per overlapped item", "gold_rate": "Gold checks",
}


def _setting_errors(errors: dict) -> dict[str, str]:
    """A serializer's errors per field, as one line each."""
    return {name: " ".join(str(m) for m in problems) for name, problems in errors.items()}


def _settings_save(request: HttpRequest, project: Project) -> dict[str, str]:
    """Validate every section of the settings form, then save each through its service; the errors by field
    (none: saved). The project's and review settings are saved together; the learning settings after them,
    since a change of the precision target re-decides the items (as ``PATCH /api/projects/{id}/learning``)."""
    post = request.POST
    given = {name: post.getlist(name)[-1] for name in post if name in SETTING_LABELS}
    project_values = {name: given[name] for name in PROJECT_FIELDS if name in given}
    for name in NULLABLE_FIELDS:
        if project_values.get(name) == "":
            project_values[name] = None
    review_values = {name: given[name] for name in services.REVIEW_SETTINGS if name in given}
    if review_values.get("gold_rate") == "":
        review_values["gold_rate"] = None  # blank: the deployment's default
    forms = (ProjectUpdateSerializer(data=project_values),
             ReviewSettingsSerializer(data=review_values),
             LearningSettingsSerializer(data={n: given[n] for n in LEARNING_FIELDS if n in given}))
    errors: dict[str, str] = {}
    for form in forms:
        if not form.is_valid():
            errors |= _setting_errors(form.errors)
    if errors:
        return errors
    project_data, review_data, learning_data = (form.validated_data for form in forms)
    try:
        with transaction.atomic():
            project_update(project=project, actor=request.user, **project_data)
            services.review_settings_update(project=project, actor=request.user, **review_data)
        learning_settings_update(project=project, actor=request.user, **learning_data)
    except DomainError as exc:
        return {DOMAIN_FIELDS.get(exc.field or "", exc.field or ""): exc.message}
    return {}


def _settings_fields(project: Project, values: dict, errors: dict[str, str]) -> dict[str, dict]:
    """What the page shows per field: its label, the value (as posted after an error, else the project's)
    and its error."""
    def value(name: str) -> str:
        if name in values:
            return values[name]
        current = getattr(project, name)
        if current is None:
            return ""
        if isinstance(current, date):
            return current.isoformat()
        return str(current).lower() if isinstance(current, bool) else str(current)
    return {name: {"name": name, "label": label, "value": value(name), "error": errors.get(name, "")}
            for name, label in SETTING_LABELS.items()}


@login_required
def project_settings_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project's settings (managers): the model, the precision target and its risk, the threshold and audit
    sample, the learning cadence, the review policy, queue and overlap; each part saved by the service the API
    uses. An invalid value changes nothing and is shown beside its field with the reason."""
    project = project_for_page(request, project_id, MANAGERS)
    errors: dict[str, str] = {}
    values: dict = {}
    if request.method == "POST":
        errors = _settings_save(request, project)
        if not errors:
            messages.success(request, PROJECT_SETTINGS_SAVED)
            return redirect("project-settings", project_id=project.pk)
        project.refresh_from_db()
        values = {name: request.POST.getlist(name)[-1] for name in request.POST if name in SETTING_LABELS}
        summary = "; ".join(f"{SETTING_LABELS.get(name, 'Settings')}: {message}" for name, message in errors.items())
        messages.error(request, FORM_INVALID.format(errors=summary))
    models = [spec.name for spec in list_models() if spec.modality == project.item_kind]
    if project.default_model and project.default_model not in models:
        models.append(project.default_model)
    return render(request, "review/settings.html", {
        "project": project, "tab": "settings", "models": models, "policies": Project.ReviewPolicy.choices,
        "strategies": [(name, name) for name in sorted(selectors.QUEUE_STRATEGIES)],
        "gold_rate": services.gold_rate(project=project), "default_gold_rate": services.gold_rate(), "f": _settings_fields(project, values, errors), "errors": errors,
        "strict": str(values.get("strict_precision", project.strict_precision)).lower() in ("true", "on", "1"),
    }, status=400 if errors else 200)
