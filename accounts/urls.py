from django.urls import path

from accounts import api, views

urlpatterns = [
    path("auth/register", api.RegisterView.as_view(), name="auth-register"),
    path("auth/login", api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-everywhere", api.LogoutEverywhereView.as_view(), name="auth-logout-everywhere"),
    path("auth/me", api.MeView.as_view(), name="auth-me"),
    path("auth/profile", api.ProfileView.as_view(), name="auth-profile"),
    path("auth/password", api.PasswordChangeView.as_view(), name="auth-password"),
    path("auth/password/reset", api.PasswordResetView.as_view(), name="auth-password-reset"),
    path("auth/password/reset/confirm", api.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("organizations", api.OrganizationListView.as_view(), name="organizations"),
    path("organizations/<int:org_id>", api.OrganizationDetailView.as_view(), name="organization-detail"),
    path("organizations/<int:org_id>/members", api.MemberListView.as_view(), name="organization-members"),
    path("organizations/<int:org_id>/members/<int:user_id>", api.MemberDetailView.as_view(),
         name="organization-member"),
    path("organizations/<int:org_id>/invitations", api.InvitationListView.as_view(),
         name="organization-invitations"),
    path("organizations/<int:org_id>/invitations/<int:invitation_id>", api.InvitationDetailView.as_view(),
         name="organization-invitation"),
    path("invitations/accept", api.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("audit-events", api.AuditEventListView.as_view(), name="audit-events"),
]

page_urlpatterns = [
    path("signup/", views.signup_page, name="signup"),
    path("invite/<str:token>", views.invitation_page, name="invitation-page"),
    path("team/", views.team_redirect, name="team"),
    path("organizations/<int:org_id>/team", views.team_page, name="team-page"),
    path("password/reset", views.password_reset_page, name="password-reset"),
    path("password/reset/confirm/<str:uid>/<str:token>", views.password_reset_confirm_page,
         name="password-reset-confirm"),
]
