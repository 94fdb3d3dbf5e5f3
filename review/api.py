"""The review API: the leased queue, decisions (one, a batch, undo), adjudication, gold, settings.

``GET /api/review/stats`` is a report, served by ``analytics``.

Only reviewers and managers of a project may review it; managers also adjudicate, set gold
answers and change the review settings. A project of another organization is a 404.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from modelship.openapi import error_responses
from projects.permissions import MANAGERS, PROJECT_REVIEWERS
from projects.scoping import ProjectScopedView
from review import selectors, services
from review.serializers import (
    AdjudicationItemSerializer,
    BatchResultSerializer,
    BatchSerializer,
    DecisionSerializer,
    GoldInSerializer,
    GoldItemSerializer,
    ProjectQuerySerializer,
    QueueQuerySerializer,
    QueueSerializer,
    ReleaseResultSerializer,
    ReleaseSerializer,
    ReviewSettingsOutSerializer,
    ReviewSettingsUpdateSerializer,
    SubmitSerializer,
    UndoResultSerializer,
)

CONFLICT = OpenApiResponse(description="The item is leased to someone else, already decided, or not open.")


def _errors(*codes: int) -> dict:
    return error_responses(*codes, r409=CONFLICT)


def _query(serializer_class, request):
    data = serializer_class(data=request.query_params)
    data.is_valid(raise_exception=True)
    return data.validated_data


class QueueView(ProjectScopedView):
    """The caller's next items, leased to them: audit slice first, then by strategy (lowest confidence)."""

    project_roles = PROJECT_REVIEWERS

    @extend_schema(parameters=[QueueQuerySerializer], responses={200: QueueSerializer, **_errors(400, 401, 403, 404)})
    def get(self, request):
        query = _query(QueueQuerySerializer, request)
        project = self.get_project(query["project"])
        lease = services.queue_lease(user=request.user, project=project, strategy=query.get("strategy") or None,
                                     limit=query["limit"], exclude=query["exclude"])
        body = {"project": project.pk, "strategy": lease.strategy, "lease_expires_at": lease.lease_expires_at,
                "items": lease.items}
        return Response(QueueSerializer(body, context={"reasons": lease.reasons}).data)


class SubmitView(APIView):
    @extend_schema(request=SubmitSerializer, responses={201: DecisionSerializer, **_errors(400, 401, 403, 404, 409)},
                   description="Approve the prediction, reject it (no replacement: the item stays out of exports "
                               "of labelled data), or modify it to the labels given. You must hold the item's lease, "
                               "or nobody may.")
    def post(self, request):
        data = SubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = selectors.review_item_get(user=request.user, item_id=data.validated_data["item"],
                                         require=PROJECT_REVIEWERS)
        decision = services.decision_submit(user=request.user, project=item.project, decision=data.decision_input(),
                                            actor_role=item.project.caller_role)
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class BatchView(ProjectScopedView):
    project_roles = PROJECT_REVIEWERS

    @extend_schema(request=BatchSerializer, responses={201: BatchResultSerializer, **_errors(400, 401, 403, 404, 409)},
                   description="Many decisions on one project, all validated first: all are saved, or none and "
                               "`errors` maps each bad decision's index to its error.")
    def post(self, request):
        data = BatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = self.get_project(data.validated_data["project"])
        decisions = services.decisions_submit(user=request.user, project=project, decisions=data.decision_inputs(),
                                              actor_role=project.caller_role)
        return Response(BatchResultSerializer({"decisions": decisions}).data, status=status.HTTP_201_CREATED)


class UndoView(ProjectScopedView):
    project_roles = PROJECT_REVIEWERS

    @extend_schema(request=ProjectQuerySerializer, responses={200: UndoResultSerializer, **_errors(400, 401, 403, 404, 409)},
                   description="Undo your latest decision in the project: the item gets back its previous state "
                               "and labels and is leased to you again.")
    def post(self, request):
        data = ProjectQuerySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = self.get_project(data.validated_data["project"])
        decision = services.decision_undo(user=request.user, project=project)
        item = selectors.items_for_display(ids=[decision.item_id])[0]
        return Response(UndoResultSerializer({"undone": decision, "item": item}).data)


class ReleaseView(ProjectScopedView):
    project_roles = PROJECT_REVIEWERS

    @extend_schema(request=ReleaseSerializer, responses={200: ReleaseResultSerializer, **_errors(400, 401, 403, 404)},
                   description="Give back your leases on these items (skipped, or the page closed).")
    def post(self, request):
        data = ReleaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = self.get_project(data.validated_data["project"])
        released = services.leases_release(user=request.user, project=project, item_ids=data.validated_data["items"])
        return Response({"released": released})


class AdjudicationView(ProjectScopedView):
    project_roles = MANAGERS

    @extend_schema(parameters=[ProjectQuerySerializer],
                   responses={200: AdjudicationItemSerializer(many=True), **_errors(400, 401, 403, 404)},
                   description="Items whose reviewers tied; a manager's decision (POST /api/review/submit) settles each.")
    def get(self, request):
        project = self.get_project(_query(ProjectQuerySerializer, request)["project"])
        return Response(AdjudicationItemSerializer(selectors.adjudication_list(project=project), many=True).data)


class GoldView(ProjectScopedView):
    project_roles = {"GET": MANAGERS, "POST": MANAGERS}

    @extend_schema(description="The project's gold items (known answers mixed into reviewers' queues to measure them).")
    @extend_schema(parameters=[ProjectQuerySerializer],
                   responses={200: GoldItemSerializer(many=True), **_errors(400, 401, 403, 404)})
    def get(self, request):
        project = self.get_project(_query(ProjectQuerySerializer, request)["project"])
        return Response(GoldItemSerializer(selectors.gold_list(project=project), many=True).data)

    @extend_schema(request=GoldInSerializer, responses={200: GoldItemSerializer, **_errors(400, 401, 403, 404)},
                   description="Set an item's known answer: each reviewer is shown it once, mixed into the queue, "
                               "and scored on it. It never changes the item's final labels.")
    def post(self, request):
        data = GoldInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = selectors.review_item_get(user=request.user, item_id=data.validated_data["item"], require=MANAGERS)
        item = services.gold_set(actor=request.user, project=item.project, item_id=item.pk,
                                 labels=data.validated_data["labels"])
        return Response(GoldItemSerializer(item).data)


class ReviewSettingsView(ProjectScopedView):
    project_roles = {"GET": PROJECT_REVIEWERS, "PUT": MANAGERS}

    @extend_schema(description="The project's review settings: lease length and overlap.")
    @extend_schema(parameters=[ProjectQuerySerializer],
                   responses={200: ReviewSettingsOutSerializer, **_errors(400, 401, 403, 404)})
    def get(self, request):
        project = self.get_project(_query(ProjectQuerySerializer, request)["project"])
        return Response(ReviewSettingsOutSerializer(project).data)

    @extend_schema(request=ReviewSettingsUpdateSerializer,
                   responses={200: ReviewSettingsOutSerializer, **_errors(400, 401, 403, 404)},
                   description="The queue's default strategy, the lease length, and overlap: how many reviewers "
                               "(overlap_reviewers) see a sampled fraction (overlap_fraction) of the items.")
    def put(self, request):
        data = ReviewSettingsUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        project = self.get_project(changes.pop("project"))
        project = services.review_settings_update(project=project, actor=request.user, **changes)
        return Response(ReviewSettingsOutSerializer(project).data)
