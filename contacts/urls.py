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

# Setup records (Marketing Setup's neighbours): campaigns, opportunities, number series.
urlpatterns += [
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/delete/", views.campaign_delete, name="campaign_delete"),
    path("opportunities/", views.opportunity_list, name="opportunity_list"),
    path("opportunities/new/", views.opportunity_create, name="opportunity_create"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:pk>/delete/", views.opportunity_delete, name="opportunity_delete"),
    path("number-series/", views.number_series_list, name="number_series_list"),
    path("number-series/new/", views.number_series_create, name="number_series_create"),
    path("number-series/<int:pk>/edit/", views.number_series_edit, name="number_series_edit"),
    path("number-series/<int:pk>/delete/", views.number_series_delete, name="number_series_delete"),
]
