"""Every read-only report of ModelShip: progress, quality, reviewers, costs, users and the platform.

``analytics`` is the top layer: it reads every other app's tables; no app imports it.
"""

from analytics.selectors.costs import cost_savings
from analytics.selectors.dashboard import project_dashboard
from analytics.selectors.platform import platform_overview
from analytics.selectors.progress import HISTORY_DAYS, history, project_summary, state_counts, throughput
from analytics.selectors.quality import (
    MATRIX_MAX_CLASSES,
    OTHER_CLASSES,
    REJECTED_CLASS,
    calibration_report,
    model_accuracy,
    quality_metrics,
    reliability,
)
from analytics.selectors.reviewers import review_stats, reviewer_figures
from analytics.selectors.users import user_dashboard, user_projects

__all__ = [
    "HISTORY_DAYS", "MATRIX_MAX_CLASSES", "OTHER_CLASSES", "REJECTED_CLASS", "calibration_report", "cost_savings", "history",
    "model_accuracy", "platform_overview", "project_dashboard", "project_summary", "quality_metrics", "reliability",
    "review_stats", "reviewer_figures", "state_counts", "throughput", "user_dashboard", "user_projects",
]
