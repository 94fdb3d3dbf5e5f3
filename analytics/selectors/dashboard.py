"""The project dashboard: every figure of one project in a constant number of aggregate queries."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from analytics.selectors.costs import cost_savings
from analytics.selectors.progress import HISTORY_DAYS, item_groups, summary_and_history, throughput
from analytics.selectors.quality import calibration_report, model_accuracy, reliability
from analytics.selectors.reviewers import reviewer_figures
from projects.models import Project
from projects.selectors import schema_current


def project_dashboard(*, project: Project, today: date | None = None, days: int = HISTORY_DAYS) -> dict:
    """Progress (now, per day, ETA), auto-accept rate, model quality and calibration, reviewers and costs."""
    today = today or timezone.localdate()
    schema = schema_current(project=project)
    groups = item_groups(project=project)
    summary, rows = summary_and_history(project=project, today=today, schema=schema, groups=groups, days=days)
    reviewers = reviewer_figures(project=project)
    return {
        "project": {"id": project.pk, "name": project.name, "deadline": project.deadline,
                    "seconds_per_item": project.seconds_per_item, "hourly_rate": float(project.hourly_rate),
                    "compute_cost_per_item": float(project.compute_cost_per_item)},
        "summary": summary,
        "history": rows,
        "throughput": throughput(rows=rows),
        "quality": {
            "model": model_accuracy(project=project, schema=schema, groups=groups),
            "calibration": calibration_report(project=project, schema=schema),
            "reliability": reliability(project=project),
        },
        "reviewers": reviewers,
        "costs": cost_savings(project=project, auto_labelled=summary["by_source"]["auto"],
                              review_seconds=reviewers["project"]["seconds_with_gold"]),
    }
