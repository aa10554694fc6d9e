"""A processor registers in the browser; a cooperative admin approves it; the processor sees
its company verified."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Company
from core.models import AuditEntry
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_registered_processor_is_verified_by_the_cooperative(new_page):
    admin = factories.make_admin(username="coop_wang")
    credit_code = factories.credit_code(424242)

    # Given a new user who registers a processor company
    user_page = new_page()
    user_page.goto("/accounts/register/")
    user_page.fill("input[name=username]", "zhao_recycling")
    user_page.fill("input[name=email]", "zhao@example.com")
    user_page.fill("input[name=password1]", "Lead-Acid-2026")
    user_page.fill("input[name=password2]", "Lead-Acid-2026")
    user_page.fill("input[name=company_name]", "哈尔滨赵氏再生资源加工有限公司")
    user_page.fill("input[name=credit_code]", credit_code)
    user_page.check("input[name=role][value=processor]")
    user_page.select_option("select[name=district]", "hulan")
    user_page.fill("input[name=address]", "呼兰区利民开发区 6 号")
    user_page.fill("input[name=contact_phone]", "13845100000")
    user_page.click("form.form button[type=submit]")

    expect(user_page).to_have_url(re.compile(r"/accounts/company/$"))
    expect(user_page.locator("[data-status]")).to_have_attribute("data-status", "pending")
    company = Company.objects.get(credit_code=credit_code)
    assert company.status == Company.Status.PENDING

    # When a cooperative admin logs in, opens the queue and approves it
    admin_page = new_page()
    admin_page.goto("/accounts/login/")
    admin_page.fill("input[name=username]", admin.username)
    admin_page.fill("input[name=password]", factories.PASSWORD)
    admin_page.click("form.form button[type=submit]")
    expect(admin_page).to_have_url(re.compile(r"/coop/companies/$"))
    admin_page.click("text=哈尔滨赵氏再生资源加工有限公司")
    expect(admin_page).to_have_url(re.compile(rf"/coop/companies/{company.pk}/$"))
    admin_page.click("form[data-action=approve] button[type=submit]")
    expect(admin_page.locator(".message-success")).to_contain_text("is verified")
    expect(admin_page.locator("[data-status]")).to_have_attribute("data-status", "verified")

    # Then the user reloads its company page and sees it verified
    user_page.reload()
    badge = user_page.locator("[data-status]")
    expect(badge).to_have_attribute("data-status", "verified")
    expect(badge).to_have_text("Verified")
    expect(badge).to_be_visible()
    company.refresh_from_db()
    assert company.status == Company.Status.VERIFIED
    assert AuditEntry.objects.filter(action="company.approve", target_id=str(company.pk)).count() == 1
