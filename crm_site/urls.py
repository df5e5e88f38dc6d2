from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crm_site import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
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
