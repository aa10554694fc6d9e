"""Demo data for a first look at the platform: `python manage.py load_demo`.

Idempotent: every row is created or updated by a natural key (username, credit code), so a
second run duplicates nothing, puts the demo companies back to `verified` and resets the
demo passwords. Accounts are written straight through the ORM on purpose: they record no
business decision (no review, no audit entry), they only set up the shop window. Demo lots
come from recycling.demo, through the services.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import Company, User
from accounts.services import user_set_admin
from accounts.validators import credit_code_check_char
from core.districts import District
from logistics.demo import load_demo_logistics
from recycling.demo import load_demo_lots
from recycling.models import Lot

DEMO_PASSWORD = "demo-2026"
ADMIN_USERNAME = "coop_admin"


@dataclass(frozen=True)
class DemoMember:
    username: str
    full_name: str  # family name first, as written in Chinese
    phone: str
    role: str
    company: str
    # The first 17 characters of the unified social credit code: 9 (market regulator),
    # 1 (enterprise), the district's administrative division code, a 9-character body.
    # The check character is computed, so the codes always validate.
    credit_body: str
    district: str
    address: str
    contact_phone: str

    @property
    def credit_code(self) -> str:
        return self.credit_body + credit_code_check_char(self.credit_body)


MEMBERS: tuple[DemoMember, ...] = (
    DemoMember(
        "collector1",
        "王建国",
        "13904510101",
        Company.Role.COLLECTOR,
        "哈尔滨市供销再生资源回收有限公司",
        "91230103MA19QK3E2",
        District.NANGANG,
        "南岗区学府路318号",
        "0451-86301101",
    ),
    DemoMember(
        "collector2",
        "李秀兰",
        "13904510102",
        Company.Role.COLLECTOR,
        "哈尔滨绿源废旧物资回收有限公司",
        "91230102MA1BX2K7R",
        District.DAOLI,
        "道里区安发街126号",
        "0451-84602202",
    ),
    DemoMember(
        "collector3",
        "张立新",
        "13904510103",
        Company.Role.COLLECTOR,
        "哈尔滨呼兰金秋再生资源回收站有限公司",
        "91230111MA1C7HN54",
        District.HULAN,
        "呼兰区利民开发区南京路66号",
        "0451-57303303",
    ),
    DemoMember(
        "processor1",
        "刘振华",
        "13904510201",
        Company.Role.PROCESSOR,
        "哈尔滨龙江钢铁再生资源加工有限公司",
        "91230108MA1AT6P3W",
        District.PINGFANG,
        "平房区哈南工业新城星海路18号",
        "0451-86804401",
    ),
    DemoMember(
        "processor2",
        "陈淑芬",
        "13904510202",
        Company.Role.PROCESSOR,
        "哈尔滨北方再生纸业有限公司",
        "91230112MA1D2RB8Y",
        District.ACHENG,
        "阿城区经济开发区延川大街9号",
        "0451-53705502",
    ),
    DemoMember(
        "processor3",
        "赵海涛",
        "13904510203",
        Company.Role.PROCESSOR,
        "哈尔滨松北塑料再生利用有限公司",
        "91230109MA1BL4WG7",
        District.SONGBEI,
        "松北区利民西四大街88号",
        "0451-88106603",
    ),
    DemoMember(
        "processor4",
        "孙丽娟",
        "13904510204",
        Company.Role.PROCESSOR,
        "哈尔滨双城有色金属再生有限公司",
        "91230113MA1C95FU3",
        District.SHUANGCHENG,
        "双城区经济技术开发区振兴路27号",
        "0451-53107704",
    ),
    DemoMember(
        "carrier1",
        "马国庆",
        "13904510301",
        Company.Role.CARRIER,
        "哈尔滨顺达再生资源物流有限公司",
        "91230104MA1AJ8MD6",
        District.DAOWAI,
        "道外区先锋路469号",
        "0451-88008801",
    ),
)


def _width(text: str) -> int:
    """Columns a terminal gives `text` (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _set_user(user: User, *, email: str, phone: str, full_name: str, company: Company | None) -> User:
    user.email = email
    user.phone = phone
    user.last_name, user.first_name = full_name[:1], full_name[1:]
    user.company = company
    user.is_active = True
    user.set_password(DEMO_PASSWORD)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def load_accounts() -> list[tuple[str, str, str]]:
    """The cooperative admin and one verified company per demo member; returns the logins."""
    now = timezone.now()
    admin = User.objects.filter(username=ADMIN_USERNAME).first() or User(username=ADMIN_USERNAME)
    _set_user(admin, email="coop_admin@demo.recycling.example", phone="13904510001", full_name="周合作", company=None)
    user_set_admin(user=admin)
    logins = [(admin.username, "cooperative admin", "—")]

    for member in MEMBERS:
        fields = {
            "name": member.company,
            "role": member.role,
            "status": Company.Status.VERIFIED,
            "status_reason": "",
            "district": member.district,
            "address": member.address,
            "contact_phone": member.contact_phone,
        }
        company = Company.objects.filter(credit_code=member.credit_code).first()
        if company is None:
            company = Company(credit_code=member.credit_code, created_at=now)
        for key, value in fields.items():
            setattr(company, key, value)
        company.reviewed_at = company.reviewed_at or now
        company.full_clean()
        company.save()
        user = User.objects.filter(username=member.username).first() or User(username=member.username)
        _set_user(
            user,
            email=f"{member.username}@demo.recycling.example",
            phone=member.phone,
            full_name=member.full_name,
            company=company,
        )
        logins.append((member.username, str(member.role), company.name))
    return logins


class Command(BaseCommand):
    help = (
        "Load idempotent demo data (cooperative admin, collectors, processors, a carrier, lots in every "
        "status, wanted requests) and print the logins."
    )

    def handle(self, *args, **options) -> None:
        logins = load_accounts()
        users = {user.username: user for user in User.objects.filter(username__in=[u for u, _r, _c in logins])}
        # The demo's notices are not real mail: keep them out of the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            made = load_demo_lots(
                admin=users[ADMIN_USERNAME],
                collectors=[users[f"collector{n}"] for n in (1, 2, 3)],
                processors=[users[f"processor{n}"] for n in (1, 2, 3, 4)],
            )
            booked = load_demo_logistics(
                admin=users[ADMIN_USERNAME],
                carrier=users["carrier1"],
                collectors=[users[f"collector{n}"] for n in (1, 2, 3)],
                processors=[users[f"processor{n}"] for n in (1, 2, 3, 4)],
            )
        self.stdout.write(f"Demo lots: {made} created; {Lot.objects.count()} in all, one live for the next hour.")
        self.stdout.write(f"Demo logistics: {booked} lots booked, one at each stage.")
        rows = [("username", "password", "role", "company"), *((u, DEMO_PASSWORD, r, c) for u, r, c in logins)]
        widths = [max(_width(row[i]) for row in rows) for i in range(4)]
        for index, row in enumerate(rows):
            self.stdout.write("  ".join(_pad(cell, width) for cell, width in zip(row, widths, strict=True)).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {len(logins)} logins, password {DEMO_PASSWORD!r}."))
