"""Server-rendered analytics pages: the project dashboard, the personal dashboard, the staff overview
and the manager page; each table downloads as CSV from ``<page>/<table>.csv``.

The same permissions as the API: any role in a project sees its dashboard, managers its manage
page; another organization's project is a 404; the overview is for staff (403 for others).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join

from analytics import charts, selectors
from analytics.api import STAFF_ONLY
from analytics.selectors.quality import RELIABILITY_BINS
from analytics.tables import TABLE_NOT_FOUND, Table, csv_text, platform_tables, project_tables, user_tables
from labeling.learning.services import learning_rounds
from projects.permissions import ANY_PROJECT_ROLE, MANAGERS
from projects.selectors import schema_category_paths, schema_current
from projects.views import project_for_page
from review import selectors as review_selectors
from review import services as review_services
from review.views import manage_form_apply

ROUNDS_SHOWN = 20  # learning rounds on the manage page; the API lists the last 100
STATE_COLORS = {"unlabelled": "#9AA0A6", "predicted": "#56B4E9", "auto_accepted": "#009E73",
                "needs_review": "#E69F00", "reviewed": "#0072B2"}


def _csv_response(tables: dict[str, Table], name: str, filename: str) -> HttpResponse:
    table = tables.get(name)
    if table is None:
        raise Http404(TABLE_NOT_FOUND.format(name=name))
    response = HttpResponse(csv_text(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{name}.csv"'
    return response


def _project_charts(dashboard: dict) -> dict:
    rows = dashboard["history"]
    days = [row["day"].strftime("%b %d") for row in rows]
    states = list(dashboard["summary"]["by_state"])
    over_time = charts.line_chart(
        "Items per state over time", days,
        [charts.Series(state.replace("_", " "), [row["by_state"][state] for row in rows], STATE_COLORS[state])
         for state in states])
    throughput = charts.bar_chart(
        "Items decided per day", days,
        [charts.Series("by the model", [row["decided_auto"] for row in rows], STATE_COLORS["auto_accepted"]),
         charts.Series("by people", [row["decided_human"] for row in rows], STATE_COLORS["reviewed"])])
    reliability = charts.reliability_chart("Reliability diagram (audit slice)",
                                           dashboard["quality"]["reliability"]["bins"], RELIABILITY_BINS)
    per_class = dashboard["quality"]["model"].get("per_class") or dashboard["quality"]["model"].get("per_label", {})
    shown = [label for label in dashboard["quality"]["model"].get("classes", list(per_class)) if label in per_class]
    recall = charts.bar_chart("Recall per class", shown,
                              [charts.Series("recall", [per_class[label]["recall"] for label in shown])],
                              percent=True, y_max=1.0)
    return {"over_time": over_time, "throughput": throughput, "reliability": reliability, "recall": recall}


@login_required
def project_dashboard_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for_page(request, project_id, ANY_PROJECT_ROLE)
    dashboard = selectors.project_dashboard(project=project)
    return render(request, "analytics/project_dashboard.html", {
        "project": project, "d": dashboard, "tables": project_tables(dashboard), "charts": _project_charts(dashboard),
        "can_manage": project.caller_role in MANAGERS, "csv_base": reverse("project-dashboard", args=[project.pk]),
        "tab": "dashboard",
    })


@login_required
def project_dashboard_csv(request: HttpRequest, project_id: int, table: str) -> HttpResponse:
    project = project_for_page(request, project_id, ANY_PROJECT_ROLE)
    return _csv_response(project_tables(selectors.project_dashboard(project=project)), table,
                         f"project-{project.pk}")


@login_required
def user_dashboard_page(request: HttpRequest) -> HttpResponse:
    dashboard = selectors.user_dashboard(user=request.user)
    chart = charts.bar_chart("Your decisions per day", [d["day"].strftime("%b %d") for d in dashboard["days"]],
                             [charts.Series("reviewed", [d["reviewed"] for d in dashboard["days"]])])
    return render(request, "analytics/user_dashboard.html",
                  {"d": dashboard, "tables": user_tables(dashboard), "chart": chart, "csv_base": reverse("user-dashboard")})


@login_required
def user_dashboard_csv(request: HttpRequest, table: str) -> HttpResponse:
    return _csv_response(user_tables(selectors.user_dashboard(user=request.user)), table, "my-dashboard")


def _staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied(STAFF_ONLY)


@login_required
def platform_overview_page(request: HttpRequest) -> HttpResponse:
    _staff(request)
    overview = selectors.platform_overview()
    by_state = overview["items"]["by_state"]
    chart = charts.bar_chart("Items per state", [s.replace("_", " ") for s in by_state],
                             [charts.Series("items", list(by_state.values()))])
    return render(request, "analytics/platform_overview.html",
                  {"o": overview, "tables": platform_tables(overview), "chart": chart,
                   "csv_base": reverse("platform-overview")})


@login_required
def platform_overview_csv(request: HttpRequest, table: str) -> HttpResponse:
    _staff(request)
    return _csv_response(platform_tables(selectors.platform_overview()), table, "platform")


@login_required
def manage_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """The manager page: review settings, gold, adjudication and "learn now" (forms applied by ``review.views``),
    with the reviewer, agreement, model and calibration figures read from the analytics selectors, and the
    project's last learning rounds."""
    project = project_for_page(request, project_id, MANAGERS)
    if request.method == "POST":
        manage_form_apply(request, project)
        return redirect("manage-page", project_id=project.pk)
    schema = schema_current(project=project)
    stats = selectors.review_stats(project=project, schema=schema)
    adjudication = review_selectors.adjudication_list(project=project)
    for item in adjudication:
        answers: dict[str, dict] = {}
        for decision in item.decisions_shown:
            key = review_services.REJECTED if decision.decision == "reject" else "\n".join(decision.labels)
            entry = answers.setdefault(key, {"value": key, "labels": decision.labels,
                                             "rejected": key == review_services.REJECTED, "reviewers": []})
            entry["reviewers"].append(decision.reviewer.email)
        item.answers = list(answers.values())
    model = stats["project"]["model"]
    confusion_rows, per_class = [], []
    if not model["multi_label"]:
        # each cell's text and classes made here: 441 cells through template filters cost more than the figures
        confusion_rows = [{"label": label, "cells": [
            (str(n), "num" + (" diagonal" if i == j else "") + ("" if n else " zero")) for j, n in enumerate(row)]}
            for i, (label, row) in enumerate(zip(model["classes"], model["matrix"], strict=True))]
        per_class = [(label, model["per_class"][label]) for label in model["classes"] if label in model["per_class"]]
    return render(request, "manage.html", {
        "project": project, "schema": schema, "stats": stats, "model": model,
        # a 1,000-class schema's options, joined here: a template loop over them costs more than the page's figures
        "label_options": format_html_join("", '<option value="{}">{}</option>',
                                          ((path, path) for path in schema_category_paths(schema=schema))),
        "confusion_rows": confusion_rows, "per_class": per_class, "adjudication": adjudication,
        "gold": review_selectors.gold_list(project=project), "strategies": sorted(review_selectors.QUEUE_STRATEGIES),
        "gold_rate": review_services.gold_rate(project=project),
        "calibration": selectors.calibration_report(project=project, schema=schema),
        "dashboard_url": reverse("project-dashboard", args=[project.pk]), "tab": "manage",
        "rounds": list(learning_rounds(project=project)[:ROUNDS_SHOWN]), "rounds_shown": ROUNDS_SHOWN,
        "guarantee_confidence": 1 - project.precision_delta,
    })


