"""Server-rendered pages: login, the project list, the review page and the manager page.

The same permissions as the API: a session login; a project of another organization is a 404 and
a role that may not review (or manage) it a 403. The review page talks to the JSON API with the
session and its CSRF token; the manager page's forms post back here and call the same services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied

from labeling.learning.calibration import calibration_report
from modelship.exceptions import DomainError, NotFound
from projects.models import Project
from projects.permissions import MANAGERS, PROJECT_REVIEWERS, PROJECT_ROLE_REQUIRED, require_project_role
from projects.selectors import PROJECT_NOT_FOUND, schema_categories, schema_current
from review import selectors, services
from review.serializers import ReviewSettingsSerializer
from review.services import DecisionInput

FORM_INVALID = "Please correct the settings: {errors}"
SETTINGS_SAVED = "Review settings saved."
GOLD_SAVED = "Item {item} is now a gold check."
GOLD_CLEARED = "Item {item} is no longer a gold check."
ADJUDICATED = "Item {item} is settled."


class LoginPage(auth_views.LoginView):
    template_name = "login.html"
    redirect_authenticated_user = True


class LogoutPage(auth_views.LogoutView):
    pass


def _project_for_page(request: HttpRequest, project_id: int, roles) -> Project:
    try:
        project = selectors.review_project_get(user=request.user, project_id=project_id)
        require_project_role(user=request.user, project=project, roles=roles)
    except NotFound:
        raise Http404(PROJECT_NOT_FOUND) from None
    except ApiPermissionDenied:
        raise PermissionDenied(PROJECT_ROLE_REQUIRED) from None
    return project


@login_required
def project_list_page(request: HttpRequest) -> HttpResponse:
    projects = selectors.review_projects_for(user=request.user)
    for project in projects:
        project.can_review = project.caller_role in PROJECT_REVIEWERS
        project.can_manage = project.caller_role in MANAGERS
    return render(request, "projects.html", {"projects": projects})


def _categories(project: Project) -> tuple[object, list]:
    schema = schema_current(project=project)
    return schema, (schema_categories(schema=schema) if schema else [])


@login_required
@ensure_csrf_cookie
def review_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project_for_page(request, project_id, PROJECT_REVIEWERS)
    schema, categories = _categories(project)
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
        "can_manage": project.caller_role in MANAGERS,
    })


def _form_errors(errors: dict) -> str:
    return "; ".join(f"{name}: {' '.join(str(m) for m in messages_)}" for name, messages_ in errors.items())


def _manage_post(request: HttpRequest, project: Project) -> None:
    """Apply one of the manager page's forms; report the outcome as a message."""
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


@login_required
def manage_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project_for_page(request, project_id, MANAGERS)
    if request.method == "POST":
        try:
            _manage_post(request, project)
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("manage-page", project_id=project.pk)
    schema, categories = _categories(project)
    stats = selectors.review_stats(project=project)
    adjudication = selectors.adjudication_list(project=project)
    for item in adjudication:
        answers: dict[str, dict] = {}
        for decision in item.decisions_shown:
            key = services.REJECTED if decision.decision == "reject" else "\n".join(decision.labels)
            entry = answers.setdefault(key, {"value": key, "labels": decision.labels,
                                             "rejected": key == services.REJECTED, "reviewers": []})
            entry["reviewers"].append(decision.reviewer.email)
        item.answers = list(answers.values())
    model = stats["project"]["model"]
    confusion_rows = []
    if not model["multi_label"]:
        confusion_rows = [{"label": label, "cells": row} for label, row in zip(model["classes"], model["matrix"],
                                                                               strict=True)]
    return render(request, "manage.html", {
        "project": project, "schema": schema, "categories": categories, "stats": stats, "model": model,
        "confusion_rows": confusion_rows, "adjudication": adjudication,
        "gold": selectors.gold_list(project=project), "strategies": sorted(selectors.QUEUE_STRATEGIES),
        "gold_rate": services.gold_rate(), "calibration": calibration_report(project=project),
    })
