from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crm_site import views

handler400 = "crm_site.views.bad_request"
handler500 = "crm_site.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    # Before Django's own: it says "You have been logged out" on the login page.
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    # Before Django's own: the reset form is throttled.
    path("accounts/password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path("admin/", admin.site.urls),
    # set_language (the header's language switch); behind the login like every page.
    path("i18n/", include("django.conf.urls.i18n")),
    path("contacts/", include("contacts.urls")),
    path("interactions/", include("interactions.urls")),
    path("segments/", include("segments.urls")),
]
