"""GET /auth/sessions, DELETE /auth/sessions/{id}, POST /auth/logout-all (behind the authorizer)."""

from shared.config.settings import get_settings
from shared.core.clock import iso_time
from shared.core.errors import NotFound
from shared.http.endpoint import caller_of, client_of, http_endpoint
from shared.http.proxy import Request
from shared.http.reply import Reply
from shared.runtime.services import Services
from shared.sessions.devices import describe_device
from shared.sessions.lifecycle import end_session, list_sessions, logout_all

get_settings()


def sessions_endpoint(request: Request, services: Services) -> Reply:
    caller, client = caller_of(request), client_of(request)
    if request.method == "GET":
        listed = []
        for view in list_sessions(services, caller):
            session, device = view.session, describe_device(view.session.user_agent)
            listed.append(
                {
                    "id": session.sid,
                    "user_agent": session.user_agent,
                    "browser": device.browser,
                    "os": device.os,
                    "device": device.device,
                    "source_ip": session.source_ip,
                    "created_at": iso_time(session.created_at),
                    "last_used_at": iso_time(session.last_used),
                    "current": view.current,
                    "new_device": session.new_device,
                }
            )
        return Reply(200, {"sessions": listed})
    if request.method == "DELETE":
        end_session(services, caller, request.path_parameters.get("id", ""), client)
        return Reply(200, {"message": "Session revoked"})
    if request.method == "POST" and request.path.endswith("/logout-all"):
        ended = logout_all(services, caller, client)
        body = {"message": "Logged out of every session", "sessions_revoked": ended}
        return Reply(200, body, clear_refresh=True)
    raise NotFound()


handler = http_endpoint(sessions_endpoint)
