from django.urls import path

from contacts import views

app_name = "contacts"

urlpatterns = [
    path("", views.contact_list, name="contact_list"),
    path("new/", views.contact_create, name="contact_create"),
    path("search/", views.contact_search, name="contact_search"),
    path("<int:pk>/", views.contact_detail, name="contact_detail"),
    path("<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("salespeople/", views.salesperson_list, name="salesperson_list"),
    path("salespeople/new/", views.salesperson_create, name="salesperson_create"),
    path("salespeople/<int:pk>/", views.salesperson_detail, name="salesperson_detail"),
    path("salespeople/<int:pk>/edit/", views.salesperson_edit, name="salesperson_edit"),
    path("setup/", views.marketing_setup, name="marketing_setup"),
]
