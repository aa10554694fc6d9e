"""localstripe for the tests: one server per test session on 127.0.0.1 (a free port, no
pickle file), emptied before each test, with stripe-python pointed at it.

Use the `localstripe` fixture (import it into a conftest or a test module). It also offers
what a test needs around the fake Stripe: stopping and resuming it (SIGSTOP/SIGCONT: calls then
time out, and its state survives), registering a webhook endpoint, and confirming a
SetupIntent or authenticating a PaymentIntent the way localstripe's Stripe.js does.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "whsec_test_localstripe"
SECRET_KEY = "sk_test_local"
PUBLISHABLE_KEY = "pk_test_local"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalStripe:
    def __init__(self) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.js_url = f"{self.base}/js.stripe.com/v3/"
        self.log = tempfile.NamedTemporaryFile(prefix="localstripe-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.payments.localstripe_server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.stopped = False
        self.closed = False
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited: {Path(self.log.name).read_text()}")
            try:
                if requests.get(self.js_url, timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("localstripe did not come up")
            time.sleep(0.1)

    # --- lifecycle -----------------------------------------------------------------------

    def reset(self) -> None:
        self.resume()
        requests.delete(f"{self.base}/_config/data", timeout=5).raise_for_status()
        requests.delete(f"{self.base}/_config/webhooks", timeout=5).raise_for_status()

    def stop(self) -> None:
        """Freeze the server: connections are accepted by the kernel but never answered."""
        if not self.stopped:
            os.kill(self.process.pid, signal.SIGSTOP)
            self.stopped = True

    def resume(self) -> None:
        if self.stopped:
            os.kill(self.process.pid, signal.SIGCONT)
            self.stopped = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.resume()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)

    # --- what the browser and the dashboard would do ---------------------------------------------

    def webhook(self, url: str, *, secret: str = WEBHOOK_SECRET, events: list[str] | None = None) -> None:
        body = {"url": url, "secret": secret}
        if events is not None:
            body["events"] = events
        requests.post(f"{self.base}/_config/webhooks/test", json=body, timeout=5).raise_for_status()

    def confirm_setup(self, client_secret: str, number: str = "4242424242424242") -> dict:
        """What Stripe.js confirmCardSetup does with a Card Element's values."""
        setup_intent = client_secret.split("_secret_")[0]
        response = requests.post(
            f"{self.base}/v1/setup_intents/{setup_intent}/confirm",
            data=json.dumps(
                {
                    "key": PUBLISHABLE_KEY,
                    "use_stripe_sdk": True,
                    "client_secret": client_secret,
                    "payment_method_data": {
                        "type": "card",
                        "card": {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
                    },
                }
            ),
            timeout=5,
        )
        response.raise_for_status()
        if response.json()["status"] == "requires_action":  # 3-D Secure: "Complete authentication"
            response = requests.post(
                f"{self.base}/v1/setup_intents/{setup_intent}/confirm",
                data=json.dumps({"key": PUBLISHABLE_KEY, "use_stripe_sdk": True, "client_secret": client_secret}),
                timeout=5,
            )
            response.raise_for_status()
        return response.json()

    def authenticate(self, client_secret: str, *, success: bool = True) -> dict:
        """What Stripe.js confirmCardPayment does when the bank asks for 3-D Secure."""
        intent = client_secret.split("_secret_")[0]
        response = requests.post(
            f"{self.base}/v1/payment_intents/{intent}/_authenticate?success={'true' if success else 'false'}",
            data=json.dumps({"key": PUBLISHABLE_KEY, "client_secret": client_secret}),
            timeout=5,
        )
        response.raise_for_status()
        return response.json()

    def get(self, path: str) -> dict:
        response = requests.get(f"{self.base}/v1/{path}", auth=(SECRET_KEY, ""), timeout=5)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, **data) -> dict:
        response = requests.post(f"{self.base}/v1/{path}", data=data, auth=(SECRET_KEY, ""), timeout=5)
        response.raise_for_status()
        return response.json()

    def events(self, type: str | None = None) -> list[dict]:
        events = self.get("events?limit=100")["data"]
        return [event for event in events if type is None or event["type"] == type]


_server: LocalStripe | None = None


@pytest.fixture(scope="session")
def localstripe_server(request):
    """One server per test session, whichever modules import the fixture."""
    global _server
    if _server is None or _server.process.poll() is not None:
        _server = LocalStripe()
        server = _server
        request.addfinalizer(server.close)
    return _server


@pytest.fixture
def localstripe(localstripe_server, settings):
    """An empty localstripe, and the settings that point the platform at it."""
    localstripe_server.reset()
    settings.STRIPE_API_BASE = localstripe_server.base
    settings.STRIPE_JS_URL = localstripe_server.js_url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_TIMEOUT = 2.0
    settings.PAYMENTS_STEPS_IN_BACKGROUND = False
    yield localstripe_server
    localstripe_server.resume()
