"""Live bidding in real browsers against a real ASGI server.

pytest-django's live_server speaks WSGI only, so this module starts its own stack: Daphne
(HTTP + WebSockets) and the auction clock (`run_auction_clock`), both on one file-based SQLite
database that the fixture migrates and fills through `manage.py shell -c`. The processes share
no channel layer (unless REDIS_URL is set): a bid placed over a browser's socket reaches the
other browsers through Daphne's own layer, and the clock's close reaches them through the
panel's resync while it shows "closing…" - the way a lost broadcast is repaired in production.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LIVE_UPDATE_MS = 1_000  # another bidder's page shows a bid within a second


@dataclass
class Stack:
    url: str
    env: dict[str, str]

    def manage(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=2) as response:  # noqa: S310 (our own server)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"daphne did not answer within {timeout}s:\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Daphne and the auction clock on a migrated SQLite file; both stopped, always."""
    tmp = tmp_path_factory.mktemp("live_stack")
    # The project's settings with a fast hasher.
    (tmp / "live_settings.py").write_text(
        "from recycling.settings import *  # noqa: F403\n"
        "PASSWORD_HASHERS = ['django.contrib.auth.hashers.MD5PasswordHasher']\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DJANGO_SETTINGS_MODULE="live_settings",
        PYTHONPATH=os.pathsep.join([str(tmp), str(ROOT)]),
        DATABASE_URL=f"sqlite:///{tmp / 'live.sqlite3'}",
        DEBUG="true",
        CHANNELS_PREFIX=f"live{secrets.token_hex(4)}",  # alone on a shared Redis, if any
        CACHE_PREFIX=f"live{secrets.token_hex(4)}",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        PYTHONUNBUFFERED="1",
    )
    port = _free_port()
    stack = Stack(url=f"http://127.0.0.1:{port}", env=env)
    stack.manage("migrate", "--noinput")

    processes: list[subprocess.Popen] = []
    daphne_log, clock_log = tmp / "daphne.log", tmp / "clock.log"
    try:
        with daphne_log.open("w") as out:
            processes.append(
                subprocess.Popen(
                    [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "recycling.asgi:application"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        with clock_log.open("w") as out:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "run_auction_clock", "--interval", "0.2"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_until_serving(stack.url, processes[0], daphne_log)
        yield stack
    finally:
        for process in processes:
            _stop(process)


SETUP = """
import datetime as dt, json, random
from decimal import Decimal
from django.utils import timezone
from accounts.models import Company
from recycling import services
from tests import factories

tag, seed = {tag!r}, random.SystemRandom().randrange(10**9)

def member(role, name, n):
    company = factories.make_company(role=role, credit_code=factories.credit_code(seed + n), name=f"{{name}}-{{tag}}")
    return factories.make_user(company=company, username=f"{{name}}_{{tag}}", email=f"{{name}}_{{tag}}@example.com")

seller = member(Company.Role.COLLECTOR, "seller", 1)
a, b = member(Company.Role.PROCESSOR, "proc_a", 2), member(Company.Role.PROCESSOR, "proc_b", 3)
now = timezone.now()
lot = factories.make_lot(
    seller=seller, status="draft" if {photo!r} else "pending_review", starts_at=now - dt.timedelta(minutes=5),
    ends_at=now + dt.timedelta(seconds={seconds}), bid_increment=Decimal("50.00"),
    soft_close_seconds={soft_close}, max_extension_seconds={max_extension}, deposit=Decimal("0.00"),
    reserve_price=Decimal({reserve!r}) if {reserve!r} else None,
)
if {photo!r}:
    from recycling.demo import _photo
    from recycling.models import Lot
    services.lot_photo_add(actor=seller, lot_id=lot.pk, upload=_photo("HRB", (140, 110, 110)))
    Lot.objects.filter(pk=lot.pk).update(status="pending_review")
services.lot_review(actor=factories.make_admin(username=f"coop_{{tag}}"), lot_id=lot.pk, decision="approve")
lot.refresh_from_db()
assert lot.status == "live", lot.status
print(json.dumps({{"lot": lot.pk, "a": a.username, "b": b.username}}))
"""


def _make_lot(
    stack: Stack, *, seconds: int, soft_close: int = 0, max_extension: int = 0, reserve: str = "", photo: bool = False
) -> dict:
    """A live English lot (start 2300.00/t, increment 50.00, no deposit, with a photo when
    `photo`) ending in `seconds`, and two verified processors, made in the server's database."""
    code = SETUP.format(
        tag=secrets.token_hex(3),
        seconds=seconds,
        soft_close=soft_close,
        max_extension=max_extension,
        reserve=reserve,
        photo=photo,
    )
    return json.loads(stack.manage("shell", "-c", code).strip().splitlines()[-1])


@pytest.fixture
def browser_context(pw_browser, stack):
    """browser_context() -> a fresh context (own cookies) on the Daphne server, phone-sized."""
    contexts = []

    def make():
        context = pw_browser.new_context(base_url=stack.url, locale="en-US", viewport={"width": 390, "height": 844})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _logged_in(context, username: str) -> Page:
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    return page


def _open_lot(page: Page, lot_id: int):
    page.goto(f"/auctions/lots/{lot_id}/")
    panel = page.get_by_test_id("live-panel")
    expect(panel).to_have_attribute("data-state", re.compile(r"^(live|leading|outbid)$"))
    return panel


def _events(page: Page) -> list[dict]:
    return page.evaluate("window.__lotEvents")


def _assert_gap_free(events: list[dict]) -> None:
    """After each snapshot, every frame's seq is the previous one plus one."""
    last = None
    for frame in events:
        if frame["type"] == "snapshot":
            assert last is None or frame["seq"] >= last
        else:
            assert frame["seq"] == last + 1, [(f["type"], f["seq"]) for f in events]
        last = frame["seq"]


def test_two_processors_bid_live_and_both_see_the_close(stack, browser_context):
    # Given a live English lot that closes in about 20 s, two processors and a visitor on its page
    data = _make_lot(stack, seconds=20, photo=True)
    page_a = _logged_in(browser_context(), data["a"])
    page_b = _logged_in(browser_context(), data["b"])
    visitor = browser_context().new_page()
    panel_a, panel_b = _open_lot(page_a, data["lot"]), _open_lot(page_b, data["lot"])
    panel_v = _open_lot(visitor, data["lot"])
    expect(panel_v.get_by_test_id("login-link")).to_be_visible()
    expect(panel_v.get_by_test_id("bid-form")).to_have_count(0)
    expect(panel_b.get_by_test_id("bid-amount")).to_have_value("2300.00")
    expect(panel_b.locator("[data-role=clock-value]")).to_have_text(re.compile(r"^(\d+min \d\d|\d{1,2})s$"))
    # On the phone-sized screen, on the live page and on the lot's own page (with its photo),
    # the price, the countdown and the bid button are on the first screen, and neither page
    # scrolls sideways.
    lot_page = page_b.context.new_page()
    lot_page.goto(f"/lots/{data['lot']}/")
    for page in (page_b, lot_page):
        for test_id in ("current-price", "countdown", "bid-submit"):
            box = page.get_by_test_id("live-panel").get_by_test_id(test_id).bounding_box()
            assert box is not None and box["y"] + box["height"] <= 844, (page.url, test_id, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url
    lot_page.close()

    # When processor A bids 2,400.00 through the form
    panel_a.get_by_test_id("bid-amount").fill("2400.00")
    panel_a.get_by_test_id("bid-submit").click()
    expect(panel_a.get_by_test_id("bid-result")).to_have_attribute("data-ok", "true")

    # Then B's page (and the visitor's) shows the new price within a second, without reloading
    expect(panel_b.get_by_test_id("current-price")).to_have_text("¥2,400.00/t", timeout=LIVE_UPDATE_MS)
    expect(panel_v.get_by_test_id("current-price")).to_have_text("¥2,400.00/t", timeout=LIVE_UPDATE_MS)
    expect(panel_a).to_have_attribute("data-state", "leading")
    expect(panel_b.get_by_test_id("bid-amount")).to_have_value("2450.00")
    expect(panel_b.get_by_test_id("bid-history").locator("li").first).to_contain_text("¥2,400.00")
    expect(panel_b.get_by_test_id("live-bid-count")).to_have_text("1 bid")

    # When B answers with the prefilled minimum, A is outbid within a second
    panel_b.get_by_test_id("bid-submit").click()
    expect(panel_b.get_by_test_id("bid-result")).to_have_attribute("data-ok", "true")
    expect(panel_b).to_have_attribute("data-state", "leading")
    expect(panel_a).to_have_attribute("data-state", "outbid", timeout=LIVE_UPDATE_MS)
    expect(panel_a.get_by_test_id("current-price")).to_have_text("¥2,450.00/t")

    # A bid below the minimum is refused with the engine's reason, and changes nothing
    panel_a.get_by_test_id("bid-amount").fill("2450.00")
    panel_a.get_by_test_id("bid-submit").click()
    expect(panel_a.get_by_test_id("bid-result")).to_have_attribute("data-code", "bid_too_low")
    expect(panel_a.get_by_test_id("bid-result")).to_contain_text("2,500.00")
    expect(panel_a.get_by_test_id("current-price")).to_have_text("¥2,450.00/t")

    # Then the clock closes the lot: every page shows the closed state with the final price
    for panel in (panel_a, panel_b, panel_v):
        expect(panel).to_have_attribute("data-state", "closed", timeout=40_000)
        expect(panel.get_by_test_id("current-price")).to_have_text("¥2,450.00/t")
        expect(panel.get_by_test_id("bid-form")).to_be_hidden()
    expect(panel_b.get_by_test_id("live-result")).to_have_text("You won this lot at ¥2,450.00/t.")
    expect(panel_a.get_by_test_id("live-result")).to_have_text("Sold at ¥2,450.00/t to Bidder 2.")
    expect(panel_a.get_by_test_id("bid-history")).to_contain_text("Bidder 1 (you)")
    # The loser is told so; the winner gets its next steps; the header's badge follows the close
    expect(panel_a.get_by_test_id("result-detail")).to_have_text("You did not win this lot.")
    expect(panel_a.get_by_test_id("next-steps")).to_be_hidden()
    expect(panel_v.get_by_test_id("result-detail")).to_be_hidden()
    expect(panel_b.get_by_test_id("next-steps")).to_be_visible()
    statement, book = f"/payments/lots/{data['lot']}/statement/", f"/logistics/lots/{data['lot']}/book/"
    expect(panel_b.get_by_test_id("statement-link")).to_have_attribute("href", statement)
    expect(panel_b.get_by_test_id("book-link")).to_have_attribute("href", book)
    for page in (page_a, page_b, visitor):
        badge = page.locator(f"[data-lot-status='{data['lot']}']")
        expect(badge).to_have_text("Awarded")
        expect(badge).to_have_attribute("data-status", "awarded")
        expect(page.get_by_test_id("live-panel").get_by_test_id("connection")).to_have_text("Connected")

    for page in (page_a, page_b, visitor):
        events = _events(page)
        _assert_gap_free(events)
        assert events[-1]["type"] == "closed" and events[-1]["status"] == "awarded"
        assert events[-1]["final_price"] == "2450.00"
        assert [f["amount"] for f in events if f["type"] == "bid"] == ["2400.00", "2450.00"]


def test_a_late_bid_extends_the_countdown_and_a_dropped_page_catches_up(stack, browser_context):
    # Given a lot ending in 15 s with a 60 s soft close, capped at 10 s of extension
    data = _make_lot(stack, seconds=15, soft_close=60, max_extension=10)
    page_a = _logged_in(browser_context(), data["a"])
    page_b = _logged_in(browser_context(), data["b"])
    panel_a, panel_b = _open_lot(page_a, data["lot"]), _open_lot(page_b, data["lot"])
    ends_before = panel_b.get_attribute("data-ends-at")

    # When A bids inside the soft-close window
    panel_a.get_by_test_id("bid-submit").click()
    expect(panel_a.get_by_test_id("bid-result")).to_have_attribute("data-ok", "true")

    # Then B sees the extension notice, and the end moved 10 s (the cap)
    flash = panel_b.get_by_test_id("live-flash")
    # The 1 s promise is for the price (first test); the notice may take longer on a busy CI box.
    expect(flash).to_be_visible(timeout=5_000)
    expect(flash).to_have_attribute("data-kind", "extended")
    extended = [f for f in _events(page_b) if f["type"] == "status" and f.get("event") == "extended"]
    assert len(extended) == 1
    moved = page_b.evaluate("([a, b]) => (Date.parse(b) - Date.parse(a)) / 1000", [ends_before, extended[0]["ends_at"]])
    assert moved == pytest.approx(10, abs=0.01)

    # When B's connection drops and A bids while B is away
    page_b.evaluate("document.querySelector('[data-live]').__live.ws.close()")
    expect(panel_b).to_have_attribute("data-state", "reconnecting")
    panel_a.get_by_test_id("bid-amount").fill("2500.00")
    panel_a.get_by_test_id("bid-submit").click()
    expect(panel_a.get_by_test_id("bid-result")).to_have_attribute("data-ok", "true")

    # Then B reconnects by itself and catches up, with every event once and in order
    expect(panel_b).to_have_attribute("data-state", "live", timeout=5_000)
    expect(panel_b.get_by_test_id("current-price")).to_have_text("¥2,500.00/t")
    expect(panel_b.get_by_test_id("bid-amount")).to_have_value("2550.00")
    events = _events(page_b)
    _assert_gap_free(events)
    assert [f["type"] for f in events].count("snapshot") == 2


def test_the_reserve_badge_follows_the_bids_and_stray_frames_are_dropped_or_replayed(stack, browser_context):
    # Given a lot with a reserve of 2,400.00 and two processors on its page
    data = _make_lot(stack, seconds=120, reserve="2400.00")
    page_a = _logged_in(browser_context(), data["a"])
    page_b = _logged_in(browser_context(), data["b"])
    panel_a, panel_b = _open_lot(page_a, data["lot"]), _open_lot(page_b, data["lot"])
    badge = panel_b.get_by_test_id("reserve-badge")
    expect(badge).to_have_attribute("data-reserve", "not-met")

    # When A bids the start price, then raises its own bid to the reserve
    panel_a.get_by_test_id("bid-submit").click()
    expect(panel_b.get_by_test_id("current-price")).to_have_text("¥2,300.00/t", timeout=LIVE_UPDATE_MS)
    expect(badge).to_have_attribute("data-reserve", "not-met")
    expect(panel_a.get_by_test_id("bid-result")).to_have_attribute("data-ok", "true")
    panel_a.get_by_test_id("bid-amount").fill("2400.00")
    panel_a.get_by_test_id("bid-submit").click()

    # Then B's badge turns to "Reserve met" without a reload
    expect(panel_b.get_by_test_id("current-price")).to_have_text("¥2,400.00/t", timeout=LIVE_UPDATE_MS)
    expect(badge).to_have_attribute("data-reserve", "met", timeout=2_000)
    expect(badge).to_have_text("Reserve met")

    # When a duplicate frame and a frame from beyond a gap reach B's client
    stray = page_b.evaluate(
        """() => {
        const live = document.querySelector("[data-live]").__live;
        const sent = [];
        const send = live.ws.send.bind(live.ws);
        live.ws.send = (text) => { sent.push(JSON.parse(text)); send(text); };
        const seq = live.s.lastSeq, applied = window.__lotEvents.length;
        const fake = (n) => ({type: "bid", seq: n, amount: "9999.00", bidder: "Bidder 9", proxy: false,
                              current_price: "9999.00", bid_count: 99, ends_at: null, at: null});
        live.onFrame(fake(seq));
        live.onFrame(fake(seq + 3));
        return {seq, sent, applied: window.__lotEvents.length - applied, state: live.s.lastSeq};
    }"""
    )

    # Then neither is applied, and the gap asks the server to replay from the last applied seq
    assert stray["applied"] == 0 and stray["state"] == stray["seq"]
    assert stray["sent"] == [{"type": "resync", "after_seq": stray["seq"]}]
    expect(panel_b.get_by_test_id("current-price")).to_have_text("¥2,400.00/t")

    # And the next real event is applied as usual
    panel_b.get_by_test_id("bid-submit").click()
    expect(panel_b).to_have_attribute("data-state", "leading")
    expect(panel_a).to_have_attribute("data-state", "outbid", timeout=LIVE_UPDATE_MS)
    expect(panel_b.get_by_test_id("current-price")).to_have_text("¥2,450.00/t")
    _assert_gap_free(_events(page_b))
    assert [f["seq"] for f in _events(page_b) if f["type"] == "bid"][-1] == stray["seq"] + 1


def test_a_quiet_page_catches_up_on_a_lost_broadcast(stack, browser_context):
    # Given a processor watching a quiet lot, its page asking for news after 0.8 s of quiet
    # (20 s in production; the hook is read when the script loads)
    data = _make_lot(stack, seconds=120)
    context = browser_context()
    context.add_init_script("window.__lotQuietResyncMs = 800;")
    page = _logged_in(context, data["b"])
    panel = _open_lot(page, data["lot"])
    page.evaluate(
        """() => {
        const live = document.querySelector("[data-live]").__live;
        window.__sent = [];
        const send = live.ws.send.bind(live.ws);
        live.ws.send = (text) => { window.__sent.push(JSON.parse(text)); send(text); };
    }"""
    )
    seq_before = page.evaluate("document.querySelector('[data-live]').__live.s.lastSeq")

    # When another processor's bid commits and its broadcast is lost
    stack.manage(
        "shell",
        "-c",
        "import auctions.events as events\n"
        "from accounts.models import User\n"
        "from auctions import services\n"
        "events.broadcast = lambda *args, **kwargs: None  # the broadcast is lost\n"
        f"services.bid_place(actor=User.objects.get(username={data['a']!r}), lot_id={data['lot']}, amount='2300.00')\n",
    )

    # Then the page asks for what came after its last event, and shows the bid
    page.wait_for_function("window.__lotEvents.some((frame) => frame.type === 'bid')", timeout=5_000)
    expect(panel.get_by_test_id("current-price")).to_have_text("¥2,300.00/t")
    expect(panel.get_by_test_id("live-bid-count")).to_contain_text("1")
    assert {"type": "resync", "after_seq": seq_before} in page.evaluate("window.__sent")
    events = _events(page)
    _assert_gap_free(events)
    assert [f["type"] for f in events if f["seq"] > seq_before] == ["bid"]


def test_a_lost_connection_pauses_bidding_says_so_and_greys_the_standing_until_caught_up(stack, browser_context):
    # Given processor A leading on a live lot
    data = _make_lot(stack, seconds=120)
    context_a = browser_context()
    page_a = _logged_in(context_a, data["a"])
    page_b = _logged_in(browser_context(), data["b"])
    panel_a, panel_b = _open_lot(page_a, data["lot"]), _open_lot(page_b, data["lot"])
    panel_a.get_by_test_id("bid-submit").click()
    expect(panel_a).to_have_attribute("data-state", "leading")
    standing, note = panel_a.get_by_test_id("standing"), panel_a.get_by_test_id("bid-note")
    expect(note).to_be_hidden()

    # When A's network goes away
    context_a.set_offline(True)

    # Then the page says, next to the button, that bidding is paused while it reconnects; the
    # standing is what it was at the last update, greyed; the button is off
    expect(panel_a).to_have_attribute("data-conn", "reconnecting")
    expect(panel_a.get_by_test_id("connection")).to_have_text("Reconnecting…")
    expect(note).to_be_visible()
    expect(note).to_have_attribute("data-kind", "offline")
    expect(note).to_have_text("Connection lost: bidding is paused on this page while it reconnects.")
    expect(standing).to_have_text("You are the highest bidder. (as of the last update)")
    expect(standing).to_have_class(re.compile(r"\bis-stale\b"))
    expect(panel_a.get_by_test_id("bid-submit")).to_be_disabled()

    # When B outbids A meanwhile and A's network comes back
    panel_b.get_by_test_id("bid-submit").click()
    expect(panel_b).to_have_attribute("data-state", "leading")
    context_a.set_offline(False)

    # Then A catches up: connected, the notice gone, the standing current again
    expect(panel_a).to_have_attribute("data-conn", "connected", timeout=20_000)
    expect(note).to_be_hidden()
    expect(standing).to_have_text("You have been outbid.")
    expect(standing).not_to_have_class(re.compile(r"\bis-stale\b"))
    expect(panel_a.get_by_test_id("bid-submit")).to_be_enabled()


def test_an_instant_proxy_answer_is_a_warning_and_a_spent_maximum_says_so(stack, browser_context):
    # Given B leading with a proxy maximum of 2,500.00
    data = _make_lot(stack, seconds=120)
    page_a = _logged_in(browser_context(), data["a"])
    page_b = _logged_in(browser_context(), data["b"])
    panel_a, panel_b = _open_lot(page_a, data["lot"]), _open_lot(page_b, data["lot"])
    panel_b.get_by_test_id("proxy").locator("summary").click()
    panel_b.get_by_test_id("bid-max").fill("2500.00")
    panel_b.get_by_test_id("bid-submit").click()
    expect(panel_b.get_by_test_id("my-max")).to_have_text("Your proxy maximum: ¥2,500.00")

    # When A bids 2,350.00 and B's proxy answers at once
    panel_a.get_by_test_id("bid-amount").fill("2350.00")
    panel_a.get_by_test_id("bid-submit").click()

    # Then A's answer is a warning, not a success
    result = panel_a.get_by_test_id("bid-result")
    expect(result).to_have_attribute("data-tone", "warning")
    expect(result).to_have_class(re.compile(r"\bis-warning\b"))
    expect(result).to_contain_text("another bidder's proxy maximum is higher")
    expect(panel_a).to_have_attribute("data-state", "outbid")

    # When A goes past B's maximum
    panel_a.get_by_test_id("bid-amount").fill("2600.00")
    panel_a.get_by_test_id("bid-submit").click()
    expect(result).to_have_attribute("data-tone", "ok")

    # Then B's page says its maximum was exceeded
    expect(panel_b).to_have_attribute("data-state", "outbid", timeout=LIVE_UPDATE_MS)
    expect(panel_b.get_by_test_id("my-max")).to_have_text("Your proxy maximum of ¥2,500.00 has been exceeded.")
    expect(panel_b.get_by_test_id("my-max")).to_have_class(re.compile(r"\bis-exceeded\b"))


def test_a_lot_closed_below_its_reserve_says_why_and_clears_its_notices(stack, browser_context):
    # Given a lot with a reserve of 2,400.00 ending in 8 s, a late bid extending it by at most 4 s
    data = _make_lot(stack, seconds=8, soft_close=60, max_extension=4, reserve="2400.00")
    page_a = _logged_in(browser_context(), data["a"])
    panel_a = _open_lot(page_a, data["lot"])

    # When A bids below the reserve (the extension notice shows) and the clock closes the lot
    panel_a.get_by_test_id("bid-submit").click()
    expect(panel_a.get_by_test_id("live-flash")).to_have_attribute("data-kind", "extended", timeout=5_000)
    expect(panel_a).to_have_attribute("data-state", "closed", timeout=40_000)

    # Then the panel says why it did not sell, names the price the highest bid, the header's
    # badge says Unsold, and the notices of the running auction are gone
    expect(panel_a.get_by_test_id("live-result")).to_have_text("Closed without a sale.")
    expect(panel_a.get_by_test_id("result-detail")).to_have_text(
        "The highest bid did not reach the seller's reserve price."
    )
    expect(panel_a.locator("[data-role=price-label]")).to_have_text("Highest bid")
    expect(panel_a.get_by_test_id("current-price")).to_have_text("¥2,300.00/t")
    expect(page_a.locator(f"[data-lot-status='{data['lot']}']")).to_have_text("Unsold")
    expect(panel_a.get_by_test_id("live-flash")).to_be_hidden()
    assert _events(page_a)[-1]["reason"] == "reserve_not_met"

    # And after a reload the server says the same
    page_a.reload()
    expect(panel_a.get_by_test_id("result-detail")).to_have_text(
        "The highest bid did not reach the seller's reserve price."
    )
    expect(panel_a.locator("[data-role=price-label]")).to_have_text("Highest bid")


def test_my_bids_follows_the_open_lots_without_a_reload(stack, browser_context):
    # Given A leading on a lot, with its "My bids" page open
    data = _make_lot(stack, seconds=120)
    page_a = _logged_in(browser_context(), data["a"])
    page_b = _logged_in(browser_context(), data["b"])
    panel_a = _open_lot(page_a, data["lot"])
    panel_a.get_by_test_id("bid-submit").click()
    expect(panel_a).to_have_attribute("data-state", "leading")
    page_a.goto("/auctions/my-bids/")
    row = page_a.locator(f"li.my-bid[data-lot='{data['lot']}']")
    expect(row).to_have_attribute("data-outcome", "leading")
    page_a.wait_for_function(f"document.querySelector(\"li.my-bid[data-lot='{data['lot']}']\").dataset.seq")

    # When B outbids A
    panel_b = _open_lot(page_b, data["lot"])
    panel_b.get_by_test_id("bid-submit").click()
    expect(panel_b).to_have_attribute("data-state", "leading")

    # Then A's row turns to Outbid with the new price, and the summary counts it, without a reload
    expect(row).to_have_attribute("data-outcome", "outbid", timeout=2_000)
    expect(row.get_by_test_id("outcome")).to_have_text("Outbid")
    expect(row.get_by_test_id("lot-price")).to_have_text("¥2,350.00/t")
    expect(row.locator("[data-role=action]")).to_have_text("Bid again")
    expect(page_a.locator(".my-bids-summary [data-count=outbid]")).to_have_text("outbid on 1 lot")
    expect(page_a.locator(".my-bids-summary [data-count=leading]")).to_be_hidden()

    # When A answers from its live page, the row comes back to Leading
    page_c = page_a.context.new_page()
    panel_c = _open_lot(page_c, data["lot"])
    panel_c.get_by_test_id("bid-submit").click()
    expect(row).to_have_attribute("data-outcome", "leading", timeout=2_000)
    expect(row.get_by_test_id("lot-price")).to_have_text("¥2,400.00/t")
