"""Pages of the information board, mounted at /lots/ (namespace "recycling")."""

from django.urls import path

from recycling import views

app_name = "recycling"
urlpatterns = [
    path("", views.lot_list, name="lot_list"),
    path("board/", views.home_board, name="home_board"),
    path("new/", views.lot_create, name="lot_create"),
    path("mine/", views.my_lots, name="my_lots"),
    path("review/", views.review_queue, name="review_queue"),
    path("market/", views.market, name="market"),
    path("wanted/", views.wanted_list, name="wanted_list"),
    path("wanted/new/", views.wanted_create, name="wanted_create"),
    path("wanted/<int:wanted_id>/close/", views.wanted_close, name="wanted_close"),
    path("<int:lot_id>/", views.lot_detail, name="lot_detail"),
    path("<int:lot_id>/edit/", views.lot_edit, name="lot_edit"),
    path("<int:lot_id>/photos/", views.lot_photos_add, name="lot_photos_add"),
    path("<int:lot_id>/photos/<int:photo_id>/delete/", views.lot_photo_delete, name="lot_photo_delete"),
    path("<int:lot_id>/submit/", views.lot_submit, name="lot_submit"),
    path("<int:lot_id>/review/", views.lot_review, name="lot_review"),
    path("<int:lot_id>/withdraw/", views.lot_withdraw, name="lot_withdraw"),
    path("photos/<int:photo_id>/<str:size>/", views.photo, name="photo"),
]
