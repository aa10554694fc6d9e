"""Every status transition of a lot, allowed and forbidden, by every role (API)."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Company
from core.models import AuditEntry, Notification
from recycling.models import Lot
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "seller", "other_collector", "processor", "carrier", "pending_collector", "admin"]


@pytest.fixture
def people(collector, processor, carrier, coop_admin):
    return {
        "anonymous": None,
        "seller": collector,
        "other_collector": factories.make_member(Company.Role.COLLECTOR),
        "processor": processor,
        "carrier": carrier,
        "pending_collector": factories.make_member(Company.Role.COLLECTOR, Company.Status.PENDING),
        "admin": coop_admin,
    }


def _client(api, user):
    return api.as_user(user) if user is not None else api


def _post(api, user, path, data=None):
    return _client(api, user).post(path, data or {}, format="json")


# (action, starting status, payload) → {role: (http status, code or None, resulting status)}
SUBMIT = {
    "anonymous": (401, "not_authenticated", None),
    "seller": (200, None, "pending_review"),
    "other_collector": (404, "not_found", None),
    "processor": (404, "not_found", None),
    "carrier": (404, "not_found", None),
    "pending_collector": (404, "not_found", None),
    "admin": (404, "not_found", None),
}


@pytest.mark.parametrize("role", ROLES)
def test_submit_a_draft_only_by_its_seller(api, people, role):
    lot = factories.make_lot(seller=people["seller"])
    response = _post(api, people[role], f"/api/v1/lots/{lot.pk}/submit/")
    expected_status, code, new_status = SUBMIT[role]
    assert response.status_code == expected_status, response.content
    lot.refresh_from_db()
    if code:
        assert response.json()["code"] == code
        assert lot.status == "draft"
    else:
        assert response.json()["status"] == new_status
        assert lot.status == new_status


REVIEW_BY_ROLE = {
    "anonymous": (401, "not_authenticated"),
    "seller": (403, "not_cooperative_admin"),
    "other_collector": (403, "not_cooperative_admin"),
    "processor": (403, "not_cooperative_admin"),
    "carrier": (403, "not_cooperative_admin"),
    "pending_collector": (403, "not_cooperative_admin"),
    "admin": (200, None),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_review_only_by_cooperative_admin(api, people, role, decision):
    lot = factories.make_lot(seller=people["seller"], status="pending_review")
    response = _post(api, people[role], f"/api/v1/lots/{lot.pk}/review/", {"decision": decision, "reason": "理由"})
    expected_status, code = REVIEW_BY_ROLE[role]
    assert response.status_code == expected_status, response.content
    lot.refresh_from_db()
    if code:
        assert response.json()["code"] == code
        assert lot.status == "pending_review"
    else:
        assert lot.status == ("scheduled" if decision == "approve" else "rejected")


@pytest.mark.parametrize("role", ROLES)
def test_withdraw_only_by_cooperative_admin(api, people, role):
    lot = factories.make_lot(seller=people["seller"], status="scheduled")
    response = _post(api, people[role], f"/api/v1/lots/{lot.pk}/withdraw/", {"reason": "虚假信息"})
    expected_status, code = REVIEW_BY_ROLE[role]
    assert response.status_code == expected_status, response.content
    lot.refresh_from_db()
    assert lot.status == ("withdrawn" if code is None else "scheduled")


EDIT_BY_ROLE = {
    "anonymous": 401,
    "seller": 200,
    "other_collector": 404,
    "processor": 404,
    "carrier": 404,
    "pending_collector": 404,
    "admin": 404,
}


@pytest.mark.parametrize("role", ROLES)
def test_patch_a_draft_only_by_its_seller(api, people, role):
    lot = factories.make_lot(seller=people["seller"])
    response = _client(api, people[role]).patch(f"/api/v1/lots/{lot.pk}/", {"title": "新标题"}, format="json")
    assert response.status_code == EDIT_BY_ROLE[role], response.content
    lot.refresh_from_db()
    assert lot.title == ("新标题" if EDIT_BY_ROLE[role] == 200 else "重废钢 30 吨")


CREATE_BY_ROLE = {
    "anonymous": (401, "not_authenticated"),
    "seller": (201, None),
    "other_collector": (201, None),
    "processor": (403, "wrong_role"),
    "carrier": (403, "wrong_role"),
    "pending_collector": (403, "company_not_verified"),
    "admin": (403, "company_not_verified"),
}


def _terms_json():
    terms = factories.lot_terms()
    terms["category"] = terms["category"].code
    return {k: (v.isoformat() if hasattr(v, "isoformat") else str(v)) for k, v in terms.items()}


@pytest.mark.parametrize("role", ROLES)
def test_create_only_by_verified_collectors(api, people, role):
    response = _post(api, people[role], "/api/v1/lots/", _terms_json())
    expected_status, code = CREATE_BY_ROLE[role]
    assert response.status_code == expected_status, response.content
    if code:
        assert response.json()["code"] == code
        assert Lot.objects.count() == 0
    else:
        body = response.json()
        assert body["status"] == "draft"
        assert body["code"].startswith(f"HRB-{timezone.localdate().year}-")
        assert body["deposit"] == "6900.00"  # 10% of 2300.00 × 30 t
        assert body["soft_close_seconds"] == 300
        assert body["max_extension_seconds"] == 3600
        assert body["min_bidders"] == 1
        assert body["format"] == "english"
        assert body["unit"] == "t"


@pytest.mark.parametrize("status", ["pending_review", "scheduled", "live", "awarded", "unsold", "withdrawn"])
def test_edit_outside_draft_or_rejected_is_409_not_editable(api, collector, status):
    lot = factories.make_lot(seller=collector, status=status)
    response = api.as_user(collector).patch(f"/api/v1/lots/{lot.pk}/", {"title": "改"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_editable"
    lot.refresh_from_db()
    assert lot.title == "重废钢 30 吨"


@pytest.mark.parametrize("status", ["pending_review", "scheduled", "live", "awarded", "unsold", "withdrawn"])
def test_submit_outside_draft_or_rejected_is_409(api, collector, status):
    lot = factories.make_lot(seller=collector, status=status)
    response = api.as_user(collector).post(f"/api/v1/lots/{lot.pk}/submit/")
    assert (response.status_code, response.json()["code"]) == (409, "bad_transition")
    assert Lot.objects.get(pk=lot.pk).status == status


@pytest.mark.parametrize("status", ["draft", "rejected", "scheduled", "live", "awarded", "unsold", "withdrawn"])
def test_review_outside_pending_is_409(api, collector, coop_admin, status):
    lot = factories.make_lot(seller=collector, status=status)
    audit_before = AuditEntry.objects.count()
    response = api.as_user(coop_admin).post(f"/api/v1/lots/{lot.pk}/review/", {"decision": "approve"})
    assert (response.status_code, response.json()["code"]) == (409, "bad_transition")
    assert Lot.objects.get(pk=lot.pk).status == status
    assert AuditEntry.objects.count() == audit_before


@pytest.mark.parametrize("status", ["draft", "rejected", "awarded", "unsold", "withdrawn"])
def test_withdraw_of_unpublished_or_finished_lot_is_409(api, collector, coop_admin, status):
    lot = factories.make_lot(seller=collector, status=status)
    response = api.as_user(coop_admin).post(f"/api/v1/lots/{lot.pk}/withdraw/", {"reason": "x"})
    assert (response.status_code, response.json()["code"]) == (409, "bad_transition")
    assert Lot.objects.get(pk=lot.pk).status == status


def test_rejected_lot_shows_reason_to_seller_and_can_be_edited_and_resubmitted(api, collector, coop_admin):
    lot = factories.make_lot(seller=collector, status="pending_review")
    api.as_user(coop_admin).post(f"/api/v1/lots/{lot.pk}/review/", {"decision": "reject", "reason": "照片不清楚"})
    seller = api.as_user(collector)
    assert seller.get(f"/api/v1/lots/{lot.pk}/").json()["review_reason"] == "照片不清楚"
    assert seller.patch(f"/api/v1/lots/{lot.pk}/", {"description": "补充了清晰照片"}).status_code == 200
    response = seller.post(f"/api/v1/lots/{lot.pk}/submit/")
    assert response.json()["status"] == "pending_review"
    notification = Notification.objects.get(user=collector, kind="lot_rejected")
    assert "照片不清楚" in notification.body


def test_reject_needs_a_reason(api, collector, coop_admin):
    lot = factories.make_lot(seller=collector, status="pending_review")
    response = api.as_user(coop_admin).post(f"/api/v1/lots/{lot.pk}/review/", {"decision": "reject", "reason": " "})
    assert (response.status_code, response.json()["code"]) == (400, "reason_required")
    assert Lot.objects.get(pk=lot.pk).status == "pending_review"


def test_approve_after_start_goes_live(api, collector, coop_admin):
    now = timezone.now()
    lot = factories.make_lot(seller=collector, status="pending_review", starts_at=now - dt.timedelta(minutes=5))
    response = api.as_user(coop_admin).post(f"/api/v1/lots/{lot.pk}/review/", {"decision": "approve"})
    assert response.json()["status"] == "live"


def test_each_decision_lands_in_the_audit_log_and_notifies_the_seller(api, collector, coop_admin):
    lot = factories.make_lot(seller=collector, status="pending_review")
    api.as_user(coop_admin).post(f"/api/v1/lots/{lot.pk}/review/", {"decision": "approve"})
    api.as_user(coop_admin).post(f"/api/v1/lots/{lot.pk}/withdraw/", {"reason": "卖方违规"})
    entries = list(AuditEntry.objects.filter(target_type="lot", target_id=str(lot.pk)).order_by("id"))
    assert [e.action for e in entries] == ["lot.create", "lot.submit", "lot.approve", "lot.withdraw"]
    assert entries[-1].before == {"status": "scheduled", "review_reason": ""}
    assert entries[-1].after == {"status": "withdrawn", "review_reason": "卖方违规"}
    assert entries[-1].actor == coop_admin and entries[-1].reason == "卖方违规"
    kinds = list(Notification.objects.filter(user=collector).order_by("id").values_list("kind", flat=True))
    assert kinds == ["lot_approved", "lot_withdrawn"]
