"""The protocol's floor: a bare aiohttp handler that reads the activity and posts one reply to
its conversation with one shared client session, and nothing else (no authentication, no SDK).
What any bot must at least spend on a turn. Runs in trustboard's own virtualenv."""

from __future__ import annotations

import os

import aiohttp
from aiohttp import web


async def messages(request: web.Request) -> web.Response:
    activity = await request.json()
    conversation = activity["conversation"]["id"]
    url = f"{activity['serviceUrl'].rstrip('/')}/v3/conversations/{conversation}/activities"
    reply = {
        "type": "message",
        "text": f"Echo: {activity.get('text', '')}",
        "from": activity["recipient"],
        "recipient": activity["from"],
        "conversation": activity["conversation"],
        "replyToId": activity.get("id"),
    }
    async with request.app["http"].post(url, json=reply) as response:
        await response.read()
    return web.Response(status=200)


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def session(app: web.Application):
    app["http"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    yield
    await app["http"].close()


def app() -> web.Application:
    application = web.Application()
    application.router.add_post("/api/messages", messages)
    application.router.add_get("/healthz", healthz)
    application.cleanup_ctx.append(session)
    return application


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "3978"))
    web.run_app(app(), host="127.0.0.1", port=port, print=None, access_log=None)
