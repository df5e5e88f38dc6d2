

app_name = "contacts"

urlpatterns: list = []
