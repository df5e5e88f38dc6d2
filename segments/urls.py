from django.urls import path

from segments import views

app_name = "segments"

urlpatterns = [
    path("", views.segment_list, name="segment_list"),
    path("<int:pk>/", views.segment_detail, name="segment_detail"),
    path("logged/", views.logged_segment_list, name="logged_segment_list"),
    path("logged/<int:pk>/", views.logged_segment_detail, name="logged_segment_detail"),
]
