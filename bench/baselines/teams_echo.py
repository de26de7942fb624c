"""The Teams SDK for Python's echo sample, as a newcomer runs it (microsoft-teams-apps 2.1.1, in
its own virtualenv). Reproduced from microsoft/teams.py at commit
65870e7e74bc4b92ec4f61e6d2478e561a1cddd3: examples/echo/src/main.py, unchanged but for a /healthz
route on the SDK's FastAPI app so the bench can tell when it is up. The bench runs it with no
credentials and DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS=true (the SDK's switch for a local run),
and its turns avoid the greeting pattern, so every turn takes the sample's main path: a typing
indicator, then "You said …". Not part of trustboard."""

import asyncio
import logging
import re

from microsoft_teams.api import MessageActivity
from microsoft_teams.api.activities.typing import TypingActivityInput
from microsoft_teams.apps import ActivityContext, App

# Surface SDK INFO/WARNING logs (including the anonymous-mode startup warning
# emitted when CLIENT_ID / CLIENT_SECRET / TENANT_ID are not configured).
logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)

app = App()


@app.server.adapter.app.get("/healthz")  # the bench's, not the sample's
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.on_message_pattern(re.compile(r"hello|hi|greetings"))
async def handle_greeting(ctx: ActivityContext[MessageActivity]) -> None:
    """Handle greeting messages."""
    await ctx.reply("Hello! How can I assist you today?")


@app.on_message
async def handle_message(ctx: ActivityContext[MessageActivity]):
    """Handle message activities using the new generated handler system."""
    logger.info(f"[GENERATED onMessage] Message received: {ctx.activity.text}")
    logger.info(f"[GENERATED onMessage] From: {ctx.activity.from_}")
    await ctx.reply(TypingActivityInput())

    if "reply" in ctx.activity.text.lower():
        await ctx.reply("Hello! How can I assist you today?")
    else:
        await ctx.send(f"You said '{ctx.activity.text}'")


if __name__ == "__main__":
    asyncio.run(app.start())
