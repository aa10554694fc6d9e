from django.urls import path

from recycling import views

app_name = "recycling"
urlpatterns = [
    path("<int:lot_id>/", views.lot_detail, name="lot_detail"),
    path("photos/<int:photo_id>/<str:size>/", views.photo, name="photo"),
]
