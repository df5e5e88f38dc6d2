from django.urls import path

from interactions import views
from interactions.wizard import ContactWizard

app_name = "interactions"

urlpatterns = [
    path("entries/", views.entry_list, name="entry_list"),
    path("entries/export.csv", views.entry_export, name="entry_export"),
    path("entries/switch-canceled/", views.entry_switch_canceled, name="entry_switch_canceled"),
    path("entries/evaluate/", views.entry_evaluate, name="entry_evaluate"),
    path("entries/delete-canceled/", views.entry_delete_canceled, name="entry_delete_canceled"),
    path("entries/<int:pk>/", views.entry_detail, name="entry_detail"),
    path("entries/<int:pk>/attachment/", views.entry_attachment, name="entry_attachment"),
    path("entries/<int:pk>/resend/", views.entry_resend, name="entry_resend"),
    path("entries/<int:pk>/comments/", views.comment_create, name="comment_create"),
    path(
        "entries/<int:pk>/comments/<int:comment_pk>/edit/",
        views.comment_edit,
        name="comment_edit",
    ),
    path(
        "entries/<int:pk>/comments/<int:comment_pk>/delete/",
        views.comment_delete,
        name="comment_delete",
    ),
    path("drafts/", views.draft_list, name="draft_list"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/<int:pk>/", views.template_detail, name="template_detail"),
    path("templates/<int:pk>/edit/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
    path(
        "templates/<int:pk>/content/new/",
        views.template_content_create,
        name="template_content_create",
    ),
    path(
        "templates/<int:pk>/content/<int:content_pk>/edit/",
        views.template_content_edit,
        name="template_content_edit",
    ),
    path(
        "templates/<int:pk>/content/<int:content_pk>/delete/",
        views.template_content_delete,
        name="template_content_delete",
    ),
    path(
        "templates/<int:pk>/content/<int:content_pk>/attachment/",
        views.template_content_attachment,
        name="template_content_attachment",
    ),
    path("groups/", views.group_list, name="group_list"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("groups/<int:pk>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:pk>/delete/", views.group_delete, name="group_delete"),
]

# The Create Interaction wizard and postponed interactions (drafts); a segment's drafts run
# the segment wizard (segments:wizard) and share the rest.
urlpatterns += [
    path("create/", views.wizard_start, name="wizard_start"),
    path("wizard/<uuid:draft_id>/", views.wizard_resume, name="wizard_resume"),
    path("wizard/<uuid:draft_id>/cancel/", views.wizard_cancel, name="wizard_cancel"),
    path(
        "wizard/<uuid:draft_id>/<str:step>/",
        ContactWizard.as_view(url_name="interactions:wizard", done_step_name="finish"),
        name="wizard",
    ),
    path("drafts/<uuid:draft_id>/delete/", views.draft_delete, name="draft_delete"),
]
