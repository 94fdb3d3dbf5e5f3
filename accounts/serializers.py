from rest_framework import serializers

from accounts.models import AuditEvent, Invitation, Membership, Organization, Role, User


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, trim_whitespace=False)
    full_name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class RevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(help_text="How many refresh tokens were revoked.")


class ProfileSerializer(serializers.Serializer):
    full_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    email = serializers.EmailField(required=False)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(trim_whitespace=False)
    new_password = serializers.CharField(trim_whitespace=False)


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField()


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64, help_text="The uid part of the link in the reset mail.")
    token = serializers.CharField(max_length=128, help_text="The token part of the link in the reset mail.")
    new_password = serializers.CharField(trim_whitespace=False)


class OrganizationSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ["id", "name", "is_personal", "created_at", "role"]

    def get_role(self, obj) -> str | None:
        roles = self.context.get("roles", {})
        return roles.get(obj.id)


class OrganizationCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class MembershipOutSerializer(serializers.Serializer):
    organization = serializers.IntegerField(source="organization_id")
    organization_name = serializers.CharField(source="organization.name")
    role = serializers.CharField()


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "date_joined"]


class MeSerializer(UserSerializer):
    organizations = MembershipOutSerializer(many=True, source="memberships_list")

    class Meta(UserSerializer.Meta):
        fields = UserSerializer.Meta.fields + ["organizations"]


class RegisterResponseSerializer(serializers.Serializer):
    user = UserSerializer()
    organization = OrganizationSerializer()
    access = serializers.CharField()
    refresh = serializers.CharField()


class MemberSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="user.id")
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")

    class Meta:
        model = Membership
        fields = ["user_id", "email", "full_name", "role", "created_at"]


class MemberAddSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.EmailField(source="actor.email", allow_null=True, default=None)

    class Meta:
        model = AuditEvent
        fields = ["id", "actor", "action", "target_type", "target_id", "metadata", "created_at"]


class AuditFilterSerializer(serializers.Serializer):
    actor = serializers.IntegerField(required=False)
    action = serializers.CharField(required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "invited_by", "created_at", "expires_at", "accepted_at",
                  "revoked_at"]

    def get_status(self, invitation) -> str:
        from django.utils import timezone

        return invitation.status_at(timezone.now())


class InvitationCreatedSerializer(InvitationSerializer):
    link = serializers.CharField(read_only=True, help_text="The single-use link (shown only now; also mailed).")

    class Meta(InvitationSerializer.Meta):
        fields = InvitationSerializer.Meta.fields + ["link"]


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)
