
app_name = "coop"
urlpatterns: list = []
