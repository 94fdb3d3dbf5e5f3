"""Server-rendered labeling pages: upload, auto-label (and its jobs), the data browser and an item.

They call the same selectors and services as the API; upload and job progress talk to the API
from the page (XHR upload progress, polling the job).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from billing.prices import price_per_item
from billing.services import estimate
from labeling.engine import list_models
from labeling.inference import selectors as job_selectors
from labeling.inference.jobs import job_create
from labeling.inference.serializers import JobFilterSerializer
from labeling.items import selectors as item_selectors
from labeling.items.serializers import ItemBrowseFilterSerializer
from labeling.learning.calibration import audit_progress
from labeling.models import Item, Job
from modelship.exceptions import DomainError, NotFound
from projects.permissions import PROJECT_ROLE_REQUIRED, UPLOADERS
from projects.selectors import schema_categories, schema_current
from projects.views import form_errors, project_for_page

JOB_STARTED = "Auto-labeling {count} item(s) with {model}."
PAGE_SIZE = 48


def _page(request: HttpRequest, rows, size: int):
    """One page of ``rows`` (a count and a slice: two queries) and the query string without ``page``."""
    page = Paginator(rows, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


@login_required
def upload_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for_page(request, project_id, UPLOADERS)
    return render(request, "labeling/upload.html", {
        "project": project, "tab": "upload", "schema": schema_current(project=project),
        "imports": item_selectors.import_jobs_for(project=project)[:10],
    })


@login_required
def jobs_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """Start an auto-labeling job with a chosen model; the project's jobs."""
    project = project_for_page(request, project_id)
    can_start = project.caller_role in UPLOADERS
    if request.method == "POST":
        if not can_start:
            raise PermissionDenied(PROJECT_ROLE_REQUIRED)
        try:
            job = job_create(project=project, created_by=request.user, model_name=request.POST.get("model") or None)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, JOB_STARTED.format(count=job.total, model=job.model_name))
            return redirect("job-page", project_id=project.pk, job_id=job.pk)
    unlabelled = item_selectors.items_unlabelled_count(project=project)
    cost = estimate(project=project, model_name=project.default_model, items=unlabelled)
    models = [{"name": spec.name, "unavailable": spec.unavailable_reason(),
               "cost": unlabelled * price_per_item(model_name=spec.name, item_kind=project.item_kind)}
              for spec in list_models() if spec.modality == project.item_kind]
    return render(request, "labeling/jobs.html", {
        "project": project, "tab": "jobs", "schema": schema_current(project=project), "can_start": can_start,
        "unlabelled": unlabelled, "models": models, "cost": cost,
        "jobs": job_selectors.jobs_visible_to(user=request.user, project=project)[:50],
    })


@login_required
def job_page(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    """One job's live progress; once it is over, what comes next (the audit items still to label)."""
    project = project_for_page(request, project_id)
    job = job_selectors.jobs_visible_to(user=request.user, project=project).select_related(
        "schema", "created_by").filter(pk=job_id).first()
    if job is None:
        raise Http404(job_selectors.JOB_NOT_FOUND)
    calibration = audit_progress(project=project) if job.status in Job.FINISHED else {}
    processed = job.done + job.failed
    return render(request, "labeling/job.html", {
        "project": project, "tab": "jobs", "job": job, "calibration": calibration, "finished": Job.FINISHED,
        "percent": round(100 * processed / job.total, 1) if job.total else 100,
        "can_cancel": project.caller_role in UPLOADERS,
    })


@login_required
def all_jobs_page(request: HttpRequest) -> HttpResponse:
    """Every job in the projects the caller can see (what ``GET /api/jobs`` lists)."""
    filters = JobFilterSerializer(data=request.GET)
    f = filters.validated_data if filters.is_valid() else {}
    jobs = job_selectors.jobs_visible_to(user=request.user, status=f.get("status"), kind=f.get("kind"))
    page, query = _page(request, jobs, 50)
    return render(request, "labeling/all_jobs.html", {
        "jobs": page.object_list, "page": page, "query": query, "filters": f,
        "statuses": Job.Status.choices, "kinds": Job.Kind.choices,
    })


@login_required
def items_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """The data browser: thumbnails or text, filtered, sorted, paginated (the API's selector)."""
    project = project_for_page(request, project_id)
    schema = schema_current(project=project)
    filters = ItemBrowseFilterSerializer(data={k: v for k, v in request.GET.items() if v != ""})
    error = ""
    if filters.is_valid():
        f = filters.validated_data
    else:
        f, error = {"sort": "newest"}, form_errors(filters.errors)
    items = item_selectors.items_browse(project=project, **f)
    page, query = _page(request, items, PAGE_SIZE)
    total = page.paginator.count if f.keys() == {"sort"} else item_selectors.items_browse(project=project).count()
    return render(request, "labeling/items.html", {
        "project": project, "tab": "items", "schema": schema, "page": page, "query": query, "filters": f,
        "error": error, "total": total, "categories": schema_categories(schema=schema) if schema else [],
        "states": Item.State.choices, "sorts": [(k, v[0]) for k, v in item_selectors.ITEM_SORTS.items()],
        "sources": [("review", "Reviewed"), ("import", "Imported"), ("auto", "Auto-accepted"),
                    (item_selectors.NO_SOURCE, "Not decided")],
    })


@login_required
def item_page(request: HttpRequest, project_id: int, item_id: int) -> HttpResponse:
    project = project_for_page(request, project_id)
    try:
        item = item_selectors.item_detail_for_page(project=project, item_id=item_id)
    except NotFound:
        raise Http404(item_selectors.ITEM_NOT_FOUND) from None
    return render(request, "labeling/item.html", {
        "project": project, "tab": "items", "item": item, "top": item.top, "history": item.history,
    })
