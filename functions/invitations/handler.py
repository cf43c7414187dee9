"""POST /auth/invitations, /auth/invitations/resend, /auth/invitations/revoke (role admin, behind the
authorizer) and POST /auth/invitations/accept (public: the link's token and the new password; answers
with a session, as login does, or with none when the user type must have a second factor)."""

from shared.accounts.invitations import accept_invitation, invite, resend_invitation, revoke_invitation
from shared.config.settings import get_settings
from shared.core.clock import iso_time
from shared.core.errors import NotFound
from shared.credentials.passwords import MAX_PASSWORD_LENGTH
from shared.http.endpoint import caller_of, client_of, http_endpoint, link_reply
from shared.http.proxy import Request, json_body, string_field
from shared.http.reply import Reply
from shared.runtime.services import Services

get_settings()


def invitations_endpoint(request: Request, services: Services) -> Reply:
    body = json_body(request)
    if request.path.endswith("/accept"):
        token = string_field(body, "token", max_length=128)
        new_password = string_field(body, "new_password", max_length=MAX_PASSWORD_LENGTH)
        grant = accept_invitation(services, token, new_password, client_of(request))
        return link_reply(grant, "Invitation accepted")
    caller = caller_of(request)
    actor = client_of(request)
    email = string_field(body, "email", max_length=254)
    user_type = string_field(body, "user_type", max_length=64)
    if request.path.endswith("/resend"):
        invitation = resend_invitation(services, email, user_type, actor)
    elif request.path.endswith("/revoke"):
        revoke_invitation(services, email, user_type, actor)
        return Reply(200, {"message": "Invitation revoked", "email": email})
    elif request.path.endswith("/invitations"):
        invitation = invite(
            services,
            email,
            name=string_field(body, "name", max_length=256),
            role=string_field(body, "role", max_length=64),
            user_type=user_type,
            actor=actor,
        )
    else:
        raise NotFound()
    user = invitation.user
    answer = {
        "message": "Invitation sent",
        "email": user.email,
        "user_type": user.user_type,
        "role": user.role,
        "expires_at": iso_time(invitation.expires * 1000),
        "invited_by": caller.sub,
    }
    return Reply(201 if request.path.endswith("/invitations") else 200, answer)


handler = http_endpoint(invitations_endpoint)
