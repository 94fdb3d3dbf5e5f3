"""The accounts API: registration, JWT login, profile, organizations, members, audit log."""

from django.contrib.auth import authenticate
from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, AuthenticationFailed, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import lockout, selectors, services
from accounts.permissions import ADMIN, OrganizationRole, active_membership, require_role
from accounts.serializers import (
    AuditEventSerializer,
    AuditFilterSerializer,
    InvitationAcceptSerializer,
    InvitationCreatedSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    LoginSerializer,
    MemberAddSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    MeSerializer,
    OrganizationCreateSerializer,
    OrganizationSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    ProfileSerializer,
    RefreshSerializer,
    RegisterResponseSerializer,
    RegisterSerializer,
    RevokedSerializer,
    TokenPairSerializer,
)
from modelship.openapi import ERRORS, error_responses
from modelship.throttles import IPRateThrottle, client_ip

BAD_CREDENTIALS = "No active account found with the given credentials."
BAD_REFRESH = "Token is invalid or expired"



class LoginLocked(APIException):
    """429 with ``Retry-After``: this address may not try a password for this account yet."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "login_locked"

    def __init__(self, seconds: int):
        super().__init__(lockout.LOCKED_OUT.format(seconds=seconds))
        self.wait = seconds


class PublicAuthView(APIView):
    """An endpoint called without a token; its failures still answer 401 with a challenge."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


def _tokens(user) -> dict:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


class RegisterView(PublicAuthView):
    throttle_classes = [IPRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=RegisterSerializer, responses={201: RegisterResponseSerializer, 400: ERRORS[400], 429: None})
    def post(self, request):
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        organization = selectors.default_membership(user=user).organization
        body = {
            "user": user,
            "organization": organization,
            **_tokens(user),
        }
        out = RegisterResponseSerializer(body, context={"roles": {organization.id: "admin"}})
        return Response(out.data, status=status.HTTP_201_CREATED)


class LoginView(PublicAuthView):
    throttle_classes = [IPRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=LoginSerializer,
        responses={200: TokenPairSerializer, 400: ERRORS[400], 401: ERRORS[401], 429: OpenApiResponse(
            description="Throttled (too many requests from this address), or locked out: too many failed logins "
                        "for this account (the body says for how long; so does Retry-After, in seconds).")},
        description="Log in with email and password: an access and a refresh token. Failed logins lock an "
                    "address out of the account after LOGIN_LOCKOUT_FAILURES, for LOGIN_LOCKOUT_SECONDS.")
    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"].lower()
        user = authenticate(request, email=email, password=data.validated_data["password"])
        if user is None or not user.is_active:
            remaining = lockout.login_lock_remaining(email=email, address=client_ip(request))
            if remaining:
                raise LoginLocked(remaining)
            raise AuthenticationFailed(BAD_CREDENTIALS)
        services.user_logged_in(user=user)
        return Response(_tokens(user))


class RefreshView(PublicAuthView):

    @extend_schema(request=RefreshSerializer, responses={200: TokenPairSerializer, 400: ERRORS[400], 401: ERRORS[401]})
    def post(self, request):
        serializer = TokenRefreshSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except (TokenError, ObjectDoesNotExist) as exc:  # a bad token, or one of a deleted user
            raise AuthenticationFailed(BAD_REFRESH) from exc
        return Response(serializer.validated_data)


class LogoutView(APIView):
    @extend_schema(description="Log out this device: blacklist the given refresh token (it must be the caller's).")
    @extend_schema(request=RefreshSerializer, responses={205: None, 400: ERRORS[400], 401: ERRORS[401]})
    def post(self, request):
        data = RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            token = RefreshToken(data.validated_data["refresh"])
            if str(token.get("user_id")) != str(request.user.pk):
                raise ValidationError({"refresh": ["This refresh token belongs to another user."]})
            token.blacklist()
        except TokenError as exc:
            raise ValidationError({"refresh": [BAD_REFRESH]}) from exc
        return Response(status=status.HTTP_205_RESET_CONTENT)


class LogoutEverywhereView(APIView):
    @extend_schema(request=None, responses={200: RevokedSerializer, 401: ERRORS[401]},
                   description="Log out on every device: revoke every refresh token of the caller. Access "
                               "tokens already issued stay valid until they expire (minutes).")
    def post(self, request):
        revoked = services.user_logout_everywhere(user=request.user)
        return Response(RevokedSerializer({"revoked": revoked}).data)


class MeView(APIView):
    @extend_schema(description="The caller's profile and their role in each of their organizations.")
    @extend_schema(responses={200: MeSerializer, 401: ERRORS[401]})
    def get(self, request):
        user = request.user
        user.memberships_list = list(selectors.memberships_for(user=user))
        return Response(MeSerializer(user).data)


class ProfileView(APIView):
    @extend_schema(description="Change the caller's name or email.")
    @extend_schema(request=ProfileSerializer, responses={200: MeSerializer, 400: ERRORS[400], 401: ERRORS[401]})
    def put(self, request):
        data = ProfileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **data.validated_data)
        user.memberships_list = list(selectors.memberships_for(user=user))
        return Response(MeSerializer(user).data)


class PasswordChangeView(APIView):
    @extend_schema(description="Change the caller's password (the current one is required); every refresh token issued before is revoked, so every device logs in again.")
    @extend_schema(request=PasswordChangeSerializer, responses={204: None, 400: ERRORS[400], 401: ERRORS[401]})
    def post(self, request):
        data = PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicAuthView):
    """Mail a reset link to the account with this email. Always 204, whether or not one exists."""

    throttle_classes = [IPRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=PasswordResetSerializer, responses={204: None, 400: ERRORS[400], 429: None})
    def post(self, request):
        data = PasswordResetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"],
                                        site_url=request.build_absolute_uri("/"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetConfirmView(PublicAuthView):
    """Set a new password with the uid and token of a reset link; every refresh token is revoked."""

    throttle_classes = [IPRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: None, 400: ERRORS[400], 429: None})
    def post(self, request):
        data = PasswordResetConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrganizationListView(APIView):
    @extend_schema(description='The organizations the caller belongs to, with their role in each.')
    @extend_schema(responses={200: OrganizationSerializer(many=True), 401: ERRORS[401]})
    def get(self, request):
        memberships = list(selectors.memberships_for(user=request.user))
        roles = {m.organization_id: m.role for m in memberships}
        orgs = [m.organization for m in memberships]
        return Response(OrganizationSerializer(orgs, many=True, context={"roles": roles}).data)

    @extend_schema(description='Create an organization; the caller becomes its admin.')
    @extend_schema(request=OrganizationCreateSerializer, responses={201: OrganizationSerializer, 400: ERRORS[400]})
    def post(self, request):
        data = OrganizationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        org = services.organization_create(name=data.validated_data["name"], created_by=request.user)
        return Response(OrganizationSerializer(org, context={"roles": {org.id: "admin"}}).data,
                        status=status.HTTP_201_CREATED)


class OrganizationDetailView(APIView):
    @extend_schema(description="One of the caller's organizations (404 for one they are not a member of).")
    @extend_schema(responses={200: OrganizationSerializer, 404: None})
    def get(self, request, org_id: int):
        membership = selectors.membership_get(user=request.user, organization_id=org_id)
        org = membership.organization
        return Response(OrganizationSerializer(org, context={"roles": {org.id: membership.role}}).data)


class MemberListView(APIView):
    @extend_schema(description="The organization's members and their roles (admins only).")
    @extend_schema(responses={200: MemberSerializer(many=True), 403: None, 404: None})
    def get(self, request, org_id: int):
        membership = selectors.membership_get(user=request.user, organization_id=org_id)
        require_role(membership, ADMIN)
        return Response(MemberSerializer(selectors.members_of(organization=membership.organization), many=True).data)

    @extend_schema(description='Add a registered user to the organization with a role (admins only).')
    @extend_schema(request=MemberAddSerializer, responses={201: MemberSerializer, 400: ERRORS[400], 403: None, 404: None})
    def post(self, request, org_id: int):
        membership = selectors.membership_get(user=request.user, organization_id=org_id)
        require_role(membership, ADMIN)
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        added = services.member_add(organization=membership.organization, actor=request.user, **data.validated_data)
        return Response(MemberSerializer(added).data, status=status.HTTP_201_CREATED)


class MemberDetailView(APIView):
    @extend_schema(description="Change a member's role (admins only); the last admin cannot be demoted.")
    @extend_schema(request=MemberRoleSerializer, responses={200: MemberSerializer, 400: ERRORS[400], 403: None, 404: None})
    def patch(self, request, org_id: int, user_id: int):
        membership = selectors.membership_get(user=request.user, organization_id=org_id)
        require_role(membership, ADMIN)
        data = MemberRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changed = services.member_change_role(organization=membership.organization, user_id=user_id,
                                              role=data.validated_data["role"], actor=request.user)
        return Response(MemberSerializer(changed).data)

    @extend_schema(description='Remove a member from the organization (admins only); the last admin cannot be removed.')
    @extend_schema(responses={204: None, 400: ERRORS[400], 403: None, 404: None})
    def delete(self, request, org_id: int, user_id: int):
        membership = selectors.membership_get(user=request.user, organization_id=org_id)
        require_role(membership, ADMIN)
        services.member_remove(organization=membership.organization, user_id=user_id, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditEventListView(ListAPIView):
    """The active organization's audit log (admins only), newest first."""

    permission_classes = [IsAuthenticated, OrganizationRole]
    required_roles = ADMIN
    serializer_class = AuditEventSerializer

    @extend_schema(responses={200: AuditEventSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401],
                              403: ERRORS[403]}, parameters=[
        OpenApiParameter("actor", int), OpenApiParameter("action", str),
        OpenApiParameter("since", str, description="ISO 8601 date-time, inclusive"),
        OpenApiParameter("until", str, description="ISO 8601 date-time, exclusive"),
        OpenApiParameter("X-Organization", int, OpenApiParameter.HEADER, required=False),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = AuditFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        return selectors.audit_events_for(
            organization=active_membership(self.request).organization,
            actor_id=f.get("actor"), action=f.get("action"), since=f.get("since"), until=f.get("until"),
        )


class InvitationListView(APIView):
    """An organization's invitations (admins): list them, or invite someone by email."""

    @extend_schema(responses={200: InvitationSerializer(many=True), **error_responses(401, 403, 404)})
    def get(self, request, org_id: int):
        membership = selectors.membership_get(user=request.user, organization_id=org_id)
        require_role(membership, ADMIN)
        invitations = selectors.invitations_of(organization=membership.organization)
        return Response(InvitationSerializer(invitations, many=True).data)

    @extend_schema(request=InvitationCreateSerializer,
                   responses={201: InvitationCreatedSerializer, **error_responses(400, 401, 403, 404)},
                   description="Mails a single-use link that works before the person has an account.")
    def post(self, request, org_id: int):
        membership = selectors.membership_get(user=request.user, organization_id=org_id)
        require_role(membership, ADMIN)
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, token = services.invitation_create(
            organization=membership.organization, actor=request.user, site_url=request.build_absolute_uri("/"),
            **data.validated_data)
        invitation.link = request.build_absolute_uri(services.INVITATION_PATH.format(token=token))
        return Response(InvitationCreatedSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(APIView):
    @extend_schema(responses={204: None, **error_responses(401, 403, 404, 410)},
                   description="Withdraw a pending invitation; its link stops working.")
    def delete(self, request, org_id: int, invitation_id: int):
        membership = selectors.membership_get(user=request.user, organization_id=org_id)
        require_role(membership, ADMIN)
        services.invitation_revoke(organization=membership.organization, invitation_id=invitation_id,
                                   actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptView(APIView):
    @extend_schema(request=InvitationAcceptSerializer,
                   responses={200: MemberSerializer, **error_responses(400, 401, 403, 404, 409, 410)},
                   description="Join the organization of the invitation the token names, with its role.")
    def post(self, request):
        data = InvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.invitation_accept(token=data.validated_data["token"], user=request.user)
        return Response(MemberSerializer(membership).data)
