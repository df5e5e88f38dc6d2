from django.urls import path

from interactions import views, wizard

app_name = "interactions"

urlpatterns = [
    path("entries/", views.entry_list, name="entry_list"),
    path("entries/<int:pk>/", views.entry_detail, name="entry_detail"),
    path("drafts/", views.draft_list, name="draft_list"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/<int:pk>/", views.template_detail, name="template_detail"),
    path("groups/", views.group_list, name="group_list"),
    path("groups/<int:pk>/", views.group_detail, name="group_detail"),
]

# The Create Interaction wizard and postponed interactions (drafts).
urlpatterns += [
    path("create/", wizard.wizard_start, name="wizard_start"),
    path("wizard/<uuid:draft_id>/", wizard.wizard_resume, name="wizard_resume"),
    path("wizard/<uuid:draft_id>/cancel/", wizard.wizard_cancel, name="wizard_cancel"),
    path("wizard/<uuid:draft_id>/<str:step>/", wizard.interaction_wizard_view(), name="wizard"),
    path("drafts/<uuid:draft_id>/delete/", wizard.draft_delete_view, name="draft_delete"),
]
