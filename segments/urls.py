

app_name = "segments"

urlpatterns: list = []
