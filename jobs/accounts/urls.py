"""/accounts/: login and logout, password reset (Django's views, this app's templates),
the profile, sessions and invitation pages."""

from django.contrib.auth import views as auth_views
from django.urls import path

from jobs.accounts import views

# Django's auth URLs keep their own names (login, password_reset, ...), which its views
# and LOGIN_URL expect; the app's own pages are under the accounts namespace.
auth_patterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

account_patterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/name/", views.profile_name, name="profile_name"),
    path("profile/email/", views.profile_email, name="profile_email"),
    path("profile/password/", views.password_change, name="password_change"),
    path("email/confirm/<str:token>/", views.email_confirm, name="email_confirm"),
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/<int:pk>/end/", views.session_end, name="session_end"),
    path("sessions/<int:pk>/label/", views.session_label, name="session_label"),
    path("sessions/end-others/", views.session_end_others, name="session_end_others"),
    path("invitation/accept/", views.invitation_accept, name="invitation_accept"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
]
