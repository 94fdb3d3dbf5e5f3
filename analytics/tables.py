"""The dashboards' tables, defined once: the page renders them and the CSV download writes the same rows.

A table has a name (its CSV file), a title, columns (a header and how a value is shown on the page)
and rows of raw values. CSV cells are the raw values: integers, floats with full precision,
ISO dates, empty for "none".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from analytics.metrics import OTHER_CLASSES

TABLE_NOT_FOUND = "There is no table named {name} on this page."


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text, int, num, pct, date, money


@dataclass
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    note: str = ""


def csv_text(table: Table) -> str:
    """The table as CSV: a header line, then one line per row ("none" is an empty cell)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.header for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if v is None else v.isoformat() if hasattr(v, "isoformat") else v for v in row])
    return out.getvalue()


def _c(header: str, kind: str = "text") -> Column:
    return Column(header, kind)


def project_tables(dashboard: dict) -> dict[str, Table]:
    """Every table of the project dashboard, by name."""
    summary, quality, reviewers = dashboard["summary"], dashboard["quality"], dashboard["reviewers"]
    tables = [
        Table("states", "Items per state", [_c("State"), _c("Items", "int")],
              [[state, n] for state, n in summary["by_state"].items()]),
        Table("labels", "Items per final label", [_c("Label"), _c("Items", "int")],
              [[label, n] for label, n in summary["by_label"].items()]),
        Table("history", "Per day", [_c("Day", "date"), _c("Items", "int"),
                                     *[_c(state, "int") for state in summary["by_state"]],
                                     _c("Decided by the model", "int"), _c("Decided by people", "int")],
              [[row["day"], row["total"], *row["by_state"].values(), row["decided_auto"], row["decided_human"]]
               for row in dashboard["history"]],
              note="Past days as the daily statistics task recorded them; today is live."),
    ]
    model = quality["model"]
    if model["multi_label"]:
        tables.append(Table("per_class", "Model accuracy per label",
                            [_c("Label"), _c("Precision", "pct"), _c("Recall", "pct"), _c("Support", "int")],
                            [[label, m["precision"], m["recall"], m["support"]]
                             for label, m in model["per_label"].items()]))
    else:
        tables.append(Table("per_class", "Model accuracy per class",
                            [_c("Class"), _c("Precision", "pct"), _c("Recall", "pct"), _c("Support", "int")],
                            [[label, m["precision"], m["recall"], m["support"]]
                             for label, m in model["per_class"].items()]))
        tables.append(Table("confusion", "Confusion matrix",
                            [_c("People \\ model"), *[_c(label, "int") for label in model["classes"]]],
                            [[label, *row] for label, row in zip(model["classes"], model["matrix"], strict=True)],
                            note=(f"The {len(model['classes']) - 1} most frequent classes; the rest are "
                                  f"counted under {OTHER_CLASSES}." if OTHER_CLASSES in model["classes"] else "")))
    tables.append(Table("reliability", "Reliability (audit slice)",
                        [_c("From", "num"), _c("To", "num"), _c("Items", "int"), _c("Right", "int"),
                         _c("Accuracy", "pct"), _c("Mean confidence", "pct")],
                        [[b["lower"], b["upper"], b["items"], b["correct"], b["accuracy"], b["confidence"]]
                         for b in quality["reliability"]["bins"]]))
    tables.append(Table("reviewers", "Reviewers",
                        [_c("Reviewer"), _c("Reviewed", "int"), _c("Approve", "pct"), _c("Modify", "pct"),
                         _c("Reject", "pct"), _c("Median s", "num"), _c("Items / hour", "num"),
                         _c("Mean κ", "num"), _c("Gold right", "int"), _c("Gold answered", "int"),
                         _c("Gold accuracy", "pct"), _c("Model agrees", "pct")],
                        [[r["email"], r["reviewed"], r["approve_rate"], r["modify_rate"], r["reject_rate"],
                          r["median_seconds"], r["items_per_hour"], r["kappa_mean"], r["gold"]["correct"],
                          r["gold"]["answered"], r["gold"]["accuracy"], r["model_agreement"]]
                         for r in reviewers["reviewers"]]))
    tables.append(Table("agreement", "Agreement between reviewers",
                        [_c("Reviewer"), _c("Reviewer"), _c("Items", "int"), _c("Cohen's κ", "num")],
                        [[*pair["emails"], pair["items"], pair["kappa"]]
                         for pair in reviewers["project"]["agreement"]["pairs"]]))
    costs = dashboard["costs"]
    tables.append(Table("costs", "Cost savings", [_c("Figure"), _c("Value", "money"), _c("Formula")],
                        [[name.replace("_", " "), costs[name]["value"], costs[name]["formula"]]
                         for name in ("hours_saved", "labour_saved", "compute_cost", "savings", "review_cost")]))
    return {table.name: table for table in tables}


def user_tables(dashboard: dict) -> dict[str, Table]:
    tables = [
        Table("days", "Your decisions per day", [_c("Day", "date"), _c("Reviewed", "int")],
              [[d["day"], d["reviewed"]] for d in dashboard["days"]]),
        Table("projects", "Your projects", [_c("Project"), _c("Organization"), _c("Role"), _c("Reviewed", "int"),
                                            _c("Seconds", "num")],
              [[p["name"], p["organization"], p["role"], p["reviewed"], p["seconds"]]
               for p in dashboard["projects"]]),
    ]
    return {table.name: table for table in tables}


def platform_tables(overview: dict) -> dict[str, Table]:
    tables = [
        Table("items", "Items per state", [_c("State"), _c("Items", "int")],
              [[state, n] for state, n in overview["items"]["by_state"].items()]),
        Table("jobs", "Jobs per status", [_c("Status"), _c("Jobs", "int")],
              [[status, n] for status, n in overview["jobs"]["by_status"].items()]),
        Table("workers", "Live workers", [_c("Worker"), _c("Queues"), _c("Started", "date"), _c("Last seen", "date")],
              [[w["hostname"], " ".join(w["queues"]), w["started_at"], w["last_seen"]]
               for w in overview["workers"]["live"]]),
    ]
    return {table.name: table for table in tables}
