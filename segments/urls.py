from django.urls import path

from segments import views
from segments.wizard import SegmentWizard

app_name = "segments"

urlpatterns = [
    path("", views.segment_list, name="segment_list"),
    path("new/", views.segment_create, name="segment_create"),
    path("<int:pk>/", views.segment_detail, name="segment_detail"),
    path("<int:pk>/edit/", views.segment_edit, name="segment_edit"),
    path("<int:pk>/delete/", views.segment_delete, name="segment_delete"),
    path("<int:pk>/lines/add/", views.line_add, name="line_add"),
    path("<int:pk>/criteria/<str:action>/", views.segment_criteria, name="segment_criteria"),
    path("<int:pk>/reuse/", views.segment_reuse, name="segment_reuse"),
    path("<int:pk>/lines/remove/", views.lines_remove, name="lines_remove"),
    path("<int:pk>/go-back/", views.segment_go_back, name="segment_go_back"),
    path("<int:pk>/history/", views.segment_history, name="segment_history"),
    path("<int:pk>/save-criteria/", views.segment_save_criteria, name="segment_save_criteria"),
    path("<int:pk>/reuse-criteria/", views.segment_reuse_criteria, name="segment_reuse_criteria"),
    path("<int:pk>/export/", views.segment_export, name="segment_export"),
    path("<int:pk>/lines/<int:line_pk>/", views.line_edit, name="line_edit"),
    path("<int:pk>/lines/<int:line_pk>/reset/", views.line_reset, name="line_reset"),
    path(
        "<int:pk>/create-interaction/",
        views.segment_create_interaction,
        name="segment_create_interaction",
    ),
    path("<int:pk>/log/", views.segment_log, name="segment_log"),
    path(
        "wizard/<uuid:draft_id>/<str:step>/",
        SegmentWizard.as_view(url_name="segments:wizard", done_step_name="finish"),
        name="wizard",
    ),
    path("logged/", views.logged_segment_list, name="logged_segment_list"),
    path("logged/<int:pk>/", views.logged_segment_detail, name="logged_segment_detail"),
    path(
        "logged/<int:pk>/follow-up/",
        views.logged_segment_follow_up,
        name="logged_segment_follow_up",
    ),
    path("saved-criteria/", views.saved_criteria_list, name="saved_criteria_list"),
    path(
        "saved-criteria/<int:pk>/delete/",
        views.saved_criteria_delete,
        name="saved_criteria_delete",
    ),
    path(
        "logged/<int:pk>/canceled/",
        views.logged_segment_switch_canceled,
        name="logged_segment_switch_canceled",
    ),
    path(
        "logged/delete-canceled/",
        views.logged_segments_delete_canceled,
        name="logged_segments_delete_canceled",
    ),
]
