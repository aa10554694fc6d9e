"""Pages of deposits and payments, mounted at /payments/ (namespace "payments")."""

from django.urls import path

from payments import views

app_name = "payments"
urlpatterns = [
    path("cards/", views.cards, name="cards"),
    path("lots/<int:lot_id>/register/", views.register, name="register"),
    path("lots/<int:lot_id>/deposit/confirm/", views.deposit_confirm, name="deposit_confirm"),
    path("lots/<int:lot_id>/statement/", views.statement, name="statement"),
    path("lots/<int:lot_id>/pay/", views.settlement_pay, name="settlement_pay"),
    path("desk/", views.admin_settlements, name="admin_settlements"),
    path("desk/lots/<int:lot_id>/weight/", views.admin_weight, name="admin_weight"),
    path("desk/lots/<int:lot_id>/reoffer/", views.admin_reoffer, name="admin_reoffer"),
    path("desk/lots/<int:lot_id>/relist/", views.admin_relist, name="admin_relist"),
    path("desk/settlements/<int:settlement_id>/default/", views.admin_default, name="admin_default"),
    path("desk/payouts/<int:payout_id>/paid/", views.admin_payout_paid, name="admin_payout_paid"),
    path("desk/strikes/<int:strike_id>/reverse/", views.admin_strike_reverse, name="admin_strike_reverse"),
]
