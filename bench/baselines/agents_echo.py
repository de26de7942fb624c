"""The Microsoft 365 Agents SDK's echo sample, as a newcomer runs it
(microsoft-agents-hosting-aiohttp 1.9.0, in its own virtualenv).
Reproduced from microsoft/Agents-for-python at commit
12a5d53cd85a150d10542bd894228b6bfdd5a648: test_samples/app_style/empty_agent.py (the "Echo Agent
sample") with shared/start_server.py folded in. What differs, for the benchmark only: a /healthz
route so the bench can tell when it is up, and the address 127.0.0.1 instead of "localhost".
With no CONNECTIONS__* variables the SDK runs anonymously, as the sample does locally.
Not part of trustboard."""

from os import environ, path

from aiohttp.web import Application, Request, Response, json_response, run_app
from dotenv import load_dotenv
from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import (
    CloudAdapter,
    jwt_authorization_middleware,
    start_agent_process,
)
from microsoft_agents.hosting.core import (
    AgentApplication,
    AgentAuthConfiguration,
    MemoryStorage,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.core.app.oauth.authorization import Authorization
from microsoft_agents.hosting.core.storage import (
    ConsoleTranscriptLogger,
    TranscriptLoggerMiddleware,
)

load_dotenv(path.join(path.dirname(__file__), ".env"))

agents_sdk_config = load_configuration_from_env(environ)

STORAGE = MemoryStorage()
CONNECTION_MANAGER = MsalConnectionManager(**agents_sdk_config)
ADAPTER = CloudAdapter(connection_manager=CONNECTION_MANAGER)
ADAPTER.use(TranscriptLoggerMiddleware(ConsoleTranscriptLogger()))

AUTHORIZATION = Authorization(STORAGE, CONNECTION_MANAGER, **agents_sdk_config)

AGENT_APP = AgentApplication[TurnState](
    storage=STORAGE, adapter=ADAPTER, authorization=AUTHORIZATION, **agents_sdk_config
)


async def _help(context: TurnContext, _state: TurnState):
    await context.send_activity(
        "Welcome to the Echo Agent sample 🚀. "
        "Type /help for help or send a message to see the echo feature in action."
    )


AGENT_APP.conversation_update("membersAdded")(_help)

AGENT_APP.message("/help")(_help)


@AGENT_APP.activity("message")
async def on_message(context: TurnContext, _):
    await context.send_activity(f"you said: {context.activity.text}")


def start_server(agent_application: AgentApplication, auth_configuration: AgentAuthConfiguration):
    async def entry_point(req: Request) -> Response:
        agent: AgentApplication = req.app["agent_app"]
        adapter: CloudAdapter = req.app["adapter"]
        return await start_agent_process(
            req,
            agent,
            adapter,
        )

    async def healthz(_: Request) -> Response:  # the bench's, not the sample's
        return json_response({"status": "ok"})

    APP = Application(middlewares=[jwt_authorization_middleware])
    APP.router.add_post("/api/messages", entry_point)
    APP.router.add_get("/api/messages", lambda _: Response(status=200))
    APP.router.add_get("/healthz", healthz)
    APP["agent_configuration"] = auth_configuration
    APP["agent_app"] = agent_application
    APP["adapter"] = agent_application.adapter

    try:
        run_app(APP, host="127.0.0.1", port=environ.get("PORT", 3978))
    except Exception as error:
        raise error


if __name__ == "__main__":
    try:
        start_server(
            agent_application=AGENT_APP,
            auth_configuration=CONNECTION_MANAGER.get_default_connection_configuration(),
        )
    except Exception as error:
        raise error
