"""The API's token endpoint, with the same password, lockout and second factor as the web.

POST /api/v1/security/login {"username": e-mail, "password": …, "provider": "db"}
  → 200 with tokens when the account has no second factor, or
  → 401 {"second_factor": "email"|"totp", "mfa_token": …} (an e-mail code is sent);
POST /api/v1/security/login {"mfa_token": …, "code": …} → 200 with tokens.
No token is ever issued before the second factor is checked.
"""
from flask import current_app, g, request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.api import SecurityApi
from flask_babel import gettext as _
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt, jwt_required
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.extensions import db
from app.services import auth, sessions

_SALT = "novadesk-api-second-factor"


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


class NovaSecurityApi(SecurityApi):
    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return self.response_400(message="Le corps de la requête doit être un objet JSON.")
        try:
            if "mfa_token" in payload:
                step = self._second_factor(payload)
            else:
                step = auth.sign_in(
                    payload.get("username") or payload.get("email"), payload.get("password"), channel=sessions.API,
                    ip=request.remote_addr, user_agent=request.user_agent.string, known_device=_known_address,
                )
                if not step.done:
                    db.session.commit()
                    token = _serializer().dumps({"uid": step.user.id})
                    return self.response(401, message="Second facteur requis.", second_factor=step.second_factor, mfa_token=token)
        except auth.LoginRefused as refused:
            db.session.commit()  # keep the failure count and the log entry
            return self.response_401() if not refused.message else self.response(401, message=refused.message)
        db.session.commit()
        user, record = step.user, step.session
        claims = {"sid": record.key}  # every request checks that this sign-in is still open
        tokens = {"access_token": create_access_token(identity=str(user.id), fresh=True, additional_claims=claims)}
        if payload.get("refresh"):
            tokens["refresh_token"] = create_refresh_token(identity=str(user.id), additional_claims=claims)
        return self.response(200, **tokens)

    @expose("/refresh", methods=["POST"])
    @jwt_required(refresh=True)
    @safe
    def refresh(self):
        """A new access token for an open sign-in (the refresh token's `sid` stays on it)."""
        claims = get_jwt()
        token = create_access_token(identity=claims["sub"], fresh=False, additional_claims={"sid": claims.get("sid")})
        return self.response(200, access_token=token)

    @expose("/logout", methods=["POST"])
    @jwt_required(verify_type=False)
    @safe
    def logout(self):
        """Ends the sign-in behind this token: its access and refresh tokens stop working."""
        claims = get_jwt()
        record = sessions.live_session(int(claims["sub"]), claims.get("sid"))
        if record is not None:
            sessions.end_session(record, sessions.SIGNED_OUT, actor=g.user)
            db.session.commit()
        return self.response(200, message="Session terminée.")

    def _second_factor(self, payload):
        minutes = current_app.config["TWO_FACTOR_CODE_MINUTES"]
        try:
            data = _serializer().loads(str(payload.get("mfa_token")), max_age=minutes * 60)
        except (BadSignature, SignatureExpired):
            raise auth.LoginRefused(_("Jeton de second facteur invalide ou expiré : recommencez la connexion."))
        user = db.session.get(auth.NovaUser, data.get("uid"))
        if user is None or not user.active:
            raise auth.LoginRefused(auth.GENERIC_LOGIN_ERROR)
        return auth.sign_in_second_factor(
            user, str(payload.get("code") or ""), channel=sessions.API, ip=request.remote_addr,
            user_agent=request.user_agent.string, known_device=_known_address,
        )


def _known_address(user):
    """For API clients, a device is an address this person signed in from before."""
    return sessions.known_address(user, request.remote_addr)
