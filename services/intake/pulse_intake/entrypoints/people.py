"""REST routes for sign-in, users and API keys (the audit log: pulse_libs.http.audit_routes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pulse_libs.auth import UNIT_LIMITED_ROLES, Principal, Role
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from pulse_libs.http.problems import ProblemError, not_found
from pulse_libs.http.security import CurrentPrincipal, client_address, require

from pulse_intake.adapters import audit
from pulse_intake.context import Ctx
from pulse_intake.entrypoints.common import cursor_value, field_error, next_cursor, problems
from pulse_intake.entrypoints.schemas import (
    ApiKeyCreate,
    ApiKeyIssuedOut,
    ApiKeyOut,
    PasswordChange,
    PasswordResetOut,
    TokenOut,
    UserCreate,
    UserOut,
    UserPatch,
)
from pulse_intake.handlers import people

router = APIRouter(tags=["people"])


@router.post("/v1/auth/token", response_model=TokenOut, responses=problems(422, 429), tags=["auth"])
async def token(ctx: Ctx, request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    """Sign in with username and password (OAuth2 password form); repeated failures are throttled.

    Failures count per (username, client address) and per client address; the client address is
    taken from `X-Forwarded-For` only when the peer is a configured trusted proxy.
    """
    ip = client_address(request, ctx.settings.trusted_proxy_networks)
    try:
        result = await people.sign_in(
            store=ctx.store,
            settings=ctx.settings,
            throttle=ctx.throttle,
            username=form.username,
            password=form.password,
            ip=ip,
        )
    except people.LoginThrottled as exc:
        raise ProblemError(
            429, "Too many failed sign-ins; try again later.", headers={"Retry-After": str(exc.retry_after)}
        ) from None
    if result is None:
        ctx.metrics.login_failures.inc()
        await audit.record_system(ctx.db, action="auth.sign_in_failed", target=form.username[:64], details={"ip": ip})
        raise ProblemError(401, "Wrong username or password.", headers={"WWW-Authenticate": "Bearer"})
    access_token, expires_in, must_change = result
    await audit.record_system(ctx.db, action="auth.sign_in", target=form.username[:64], details={"ip": ip})
    return TokenOut(access_token=access_token, expires_in=expires_in, password_change_required=must_change)


@router.get("/v1/users/me", response_model=UserOut, responses=problems(404))
async def me(ctx: Ctx, principal: CurrentPrincipal) -> dict[str, Any]:
    """The signed-in user."""
    user = await people.get_user(store=ctx.store, user_id=principal.subject) if principal.kind == "user" else None
    if user is None:
        raise not_found("User")
    return user


@router.post("/v1/users/me/password", response_model=TokenOut, responses=problems(404, 422))
async def change_my_password(ctx: Ctx, body: PasswordChange, principal: CurrentPrincipal) -> TokenOut:
    """Change one's own password; every older token of the user stops working, a fresh token is returned."""
    if principal.kind != "user":
        raise not_found("User")
    try:
        doc = await people.change_password(
            store=ctx.store,
            user_id=principal.subject,
            current_password=body.current_password,
            new_password=body.new_password,
        )
    except people.WrongPassword:
        raise field_error(422, "current_password", "wrong password") from None
    except people.UserConflict as exc:
        raise field_error(exc.status, exc.field, exc.message) from None
    ctx.kick()
    await audit.record(ctx.db, actor=principal, action="user.password_change", target=principal.subject)
    access_token, expires_in = people.session_token(ctx.settings, doc)
    return TokenOut(access_token=access_token, expires_in=expires_in)


def _conflict(exc: people.UserConflict) -> ProblemError:
    return field_error(exc.status, exc.field, exc.message)


@router.post("/v1/users", status_code=201, response_model=UserOut, responses=problems(409, 422))
async def create_user(
    ctx: Ctx, body: UserCreate, principal: Annotated[Principal, Depends(require("users:write"))], response: Response
) -> dict[str, Any]:
    """Create a user (admin); the password is stored as an argon2 hash and never returned."""
    if body.role in UNIT_LIMITED_ROLES and not body.unit_codes:
        raise field_error(422, "unit_codes", "collaborators and unit officers need at least one unit")
    missing = await ctx.registry.missing_units(body.unit_codes)
    if missing:
        raise field_error(422, "unit_codes", "unknown unit(s): " + ", ".join(missing))
    try:
        user = await people.create_user(store=ctx.store, **body.model_dump())
    except people.UsernameTaken:
        raise field_error(409, "username", "already taken", "A user with this username exists.") from None
    except people.UserConflict as exc:
        raise _conflict(exc) from None
    ctx.kick()
    await audit.record(ctx.db, actor=principal, action="user.create", target=user["id"], details={"role": body.role})
    response.headers["Location"] = f"/v1/users/{user['id']}"
    return user


@router.get("/v1/users", response_model=Page[UserOut], responses=problems(400, 422))
async def list_users(
    ctx: Ctx,
    principal: Annotated[Principal, Depends(require("users:read"))],
    role: Annotated[Role | None, Query(description="Only users of this role.")] = None,
    unit_code: Annotated[str | None, Query(max_length=64, description="Only users of this unit.")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or deactivated (false) users.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words of the username or full name.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Users by username (admin), filtered by role, unit, activity and text (diacritic-insensitive)."""
    items = await people.list_users(
        store=ctx.store, after=cursor_value(cursor), limit=limit, role=role, unit_code=unit_code, active=active, q=q
    )
    await audit.record(
        ctx.db,
        actor=principal,
        action="user.list",
        target="users",
        details={"role": role, "unit_code": unit_code, "count": len(items)},
    )
    return {"items": items, "next_cursor": next_cursor(items, limit, "username")}


@router.get("/v1/users/{user_id}", response_model=UserOut, responses=problems(404))
async def get_user(
    ctx: Ctx, user_id: str, principal: Annotated[Principal, Depends(require("users:read"))]
) -> dict[str, Any]:
    """One user (admin); the read is audited."""
    user = await people.get_user(store=ctx.store, user_id=user_id)
    if user is None:
        raise not_found("User")
    await audit.record(ctx.db, actor=principal, action="user.read", target=user_id)
    return user


@router.patch("/v1/users/{user_id}", response_model=UserOut, responses=problems(404, 409, 422))
async def patch_user(
    ctx: Ctx, user_id: str, body: UserPatch, principal: Annotated[Principal, Depends(require("users:write"))]
) -> dict[str, Any]:
    """Change a user (admin). Deactivation, a role, unit or agency change refuses the old tokens on every
    service within seconds; `term_ends_on` ends access after that day."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("unit_codes"):
        missing = await ctx.registry.missing_units(changes["unit_codes"])
        if missing:
            raise field_error(422, "unit_codes", "unknown unit(s): " + ", ".join(missing))
    if user_id == principal.subject and (changes.get("active") is False or changes.get("role", "admin") != "admin"):
        raise field_error(422, "active" if "active" in changes else "role", "an admin cannot lock themself out")
    try:
        user = await people.update_user(store=ctx.store, user_id=user_id, changes=changes)
    except people.UserConflict as exc:
        raise _conflict(exc) from None
    if user is None:
        raise not_found("User")
    ctx.kick()
    await audit.record(
        ctx.db, actor=principal, action="user.update", target=user_id, details={"fields": sorted(changes)}
    )
    return user


@router.post("/v1/users/{user_id}/password-reset", response_model=PasswordResetOut, responses=problems(404))
async def reset_password(
    ctx: Ctx, user_id: str, principal: Annotated[Principal, Depends(require("users:write"))]
) -> PasswordResetOut:
    """Give a user a one-time password (shown once), to be changed at the next sign-in (admin)."""
    result = await people.reset_password(store=ctx.store, user_id=user_id)
    if result is None:
        raise not_found("User")
    ctx.kick()
    await audit.record(ctx.db, actor=principal, action="user.password_reset", target=user_id)
    return PasswordResetOut(id=user_id, one_time_password=result[1])


@router.post(
    "/v1/api-keys", status_code=201, response_model=ApiKeyIssuedOut, responses=problems(422), tags=["api keys"]
)
async def issue_key(
    ctx: Ctx, body: ApiKeyCreate, principal: Annotated[Principal, Depends(require("apikeys:write"))], response: Response
) -> ApiKeyIssuedOut:
    """Issue an API key for a provincial system (admin); the key is shown once."""
    bad = people.unknown_scopes(body.scopes)
    if bad:
        raise field_error(422, "scopes", "not allowed for API keys: " + ", ".join(bad))
    missing = await ctx.registry.missing_units(body.unit_codes or [])
    if missing:
        raise field_error(422, "unit_codes", "unknown unit(s): " + ", ".join(missing))
    key_id, key = await people.issue_api_key(
        store=ctx.store, name=body.name, scopes=body.scopes, unit_codes=body.unit_codes
    )
    ctx.kick()
    await audit.record(ctx.db, actor=principal, action="api_key.issue", target=key_id, details={"scopes": body.scopes})
    response.headers["Location"] = f"/v1/api-keys/{key_id}"
    return ApiKeyIssuedOut(id=key_id, key=key)


@router.get("/v1/api-keys", response_model=Page[ApiKeyOut], responses=problems(400), tags=["api keys"])
async def list_keys(
    ctx: Ctx,
    principal: Annotated[Principal, Depends(require("apikeys:write"))],
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """API keys without their secrets (admin)."""
    items = await people.list_api_keys(store=ctx.store, after=cursor_value(cursor), limit=limit)
    return {"items": items, "next_cursor": next_cursor(items, limit, "id")}


@router.get("/v1/api-keys/{key_id}", response_model=ApiKeyOut, responses=problems(404), tags=["api keys"])
async def get_key(
    ctx: Ctx, key_id: str, principal: Annotated[Principal, Depends(require("apikeys:write"))]
) -> dict[str, Any]:
    """One API key's record, without its secret (admin)."""
    key = await people.get_api_key(store=ctx.store, key_id=key_id)
    if key is None:
        raise not_found("API key")
    return key


@router.delete("/v1/api-keys/{key_id}", status_code=204, responses=problems(404), tags=["api keys"])
async def revoke_key(
    ctx: Ctx, key_id: str, principal: Annotated[Principal, Depends(require("apikeys:write"))]
) -> Response:
    """Revoke an API key (admin); every service stops accepting it once the event reaches it."""
    if not await people.revoke_api_key(store=ctx.store, key_id=key_id):
        raise not_found("API key")
    ctx.kick()
    await audit.record(ctx.db, actor=principal, action="api_key.revoke", target=key_id)
    return Response(status_code=204)
