"""Run localstripe for the tests: bound to loopback only, state in memory only.

localstripe's own entry point listens on every interface (`::`) and pickles its state to
/tmp/localstripe.pickle after each write. Here it binds to --host (127.0.0.1), never reads or
writes that file, and gains `DELETE /_config/webhooks` so that a test can forget the webhook
endpoints of the previous one (`DELETE /_config/data` already empties the objects).

    python -m tests.payments.localstripe_server --port 8420
"""

from __future__ import annotations

import argparse
import logging

from aiohttp import web
from localstripe import resources, server, webhooks


def _no_disk(self, *args, **kwargs) -> None:
    return None


async def _forget_webhooks(request: web.Request) -> web.Response:
    webhooks._webhooks.clear()
    return web.Response()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    resources.Store.dump_to_disk = _no_disk
    resources.Store.try_load_from_disk = _no_disk
    server.app.router.add_delete("/_config/webhooks", _forget_webhooks)
    logging.basicConfig(level=logging.WARNING)
    web.run_app(server.app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
