"""Bearer tokens and roles. A token is shown once when created and stored only as its SHA-256
(tokens are long random strings, so a plain hash is enough to make a stolen table useless).

Roles: `public` (no token: published records only), `clerk` (writes for its own bodies),
`auditor` (reads everything, including metadata and unpublished records), `admin` (everything)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

import asyncpg

from api.availability import DatabaseAvailability

Role = Literal["public", "clerk", "auditor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
TOKENS_TABLE = "bevoegd_tokens"
TOKEN_PREFIX = "bvg_"
TRUSTED_SECONDS = 1.0
"""How long a server trusts a token it has checked before it checks it again. Revoking waits
this long before it returns, so once a revocation is reported, no server accepts the token."""
MAX_TRUSTED = 10_000


@dataclass(frozen=True)
class Principal:
    """Who is asking; `name` becomes the `actor` of the events their commands record."""

    name: str
    role: Role
    bodies: frozenset[str] = frozenset()

    @property
    def reads_everything(self) -> bool:
        return self.role in ("auditor", "admin")

    @property
    def may_write(self) -> bool:
        return self.role in ("clerk", "admin")

    def may_act_for(self, body: str | None) -> bool:
        """Admins act for anyone; clerks only for their own bodies, never for the structure
        of government (no acting body)."""
        return self.role == "admin" or (self.role == "clerk" and body in self.bodies)


PUBLIC = Principal("public", "public")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    principal: Principal
    created_at: datetime


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def setup_tokens(conn: asyncpg.Connection) -> None:
    await conn.execute(
        f"CREATE TABLE IF NOT EXISTS {TOKENS_TABLE} ("
        " token_hash bytea PRIMARY KEY, principal text NOT NULL, role text NOT NULL,"
        " bodies text[] NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
        " revoked_at timestamptz)")


async def create_token(conn: asyncpg.Connection, principal: Principal) -> IssuedToken:
    if principal.role not in ROLES or principal.role == "public":
        raise ValueError(f"A token has one of the roles clerk, auditor, admin; not "
                         f"'{principal.role}'.")
    if principal.role == "clerk" and not principal.bodies:
        raise ValueError("A clerk's token names the bodies it writes for (--body).")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await setup_tokens(conn)
    created_at = await conn.fetchval(
        f"INSERT INTO {TOKENS_TABLE} (token_hash, principal, role, bodies) VALUES ($1, $2, $3, $4)"
        " RETURNING created_at", hash_token(token), principal.name, principal.role,
        sorted(principal.bodies))
    return IssuedToken(token, principal, created_at)


async def revoke_tokens(conn: asyncpg.Connection, principal: str) -> int:
    """Revokes every token of a principal; returns how many were live, once no server trusts
    them any more."""
    await setup_tokens(conn)
    result = await conn.execute(
        f"UPDATE {TOKENS_TABLE} SET revoked_at = now() WHERE principal = $1"
        " AND revoked_at IS NULL", principal)
    revoked = int(result.split()[-1])
    if revoked:
        await asyncio.sleep(TRUSTED_SECONDS)
    return revoked


class InvalidToken(Exception):
    pass


class TrustedTokens:
    """The principals of the tokens this server checked within the last TRUSTED_SECONDS: a
    client sending many requests costs one token lookup a second, not one per request. While
    the database cannot be reached, a token it cannot look up gets DatabaseUnavailable."""

    def __init__(self, pool: asyncpg.Pool, availability: DatabaseAvailability) -> None:
        self.pool = pool
        self.availability = availability
        self.checked: dict[bytes, tuple[float, Principal]] = {}

    async def principal_for(self, authorization: str | None) -> Principal:
        """The principal of an `Authorization: Bearer ...` header; public without one."""
        if not authorization:
            return PUBLIC
        token_hash = _token_hash(authorization)
        now = time.monotonic()
        trusted = self.checked.get(token_hash)
        if trusted is not None and now - trusted[0] < TRUSTED_SECONDS:
            return trusted[1]
        # the clock is read before the lookup: a revocation committed while it runs is not
        # trusted past the revoker's wait
        async with self.availability.guard():
            principal = await _principal_of(self.pool, token_hash)
        if len(self.checked) >= MAX_TRUSTED:
            self.checked = {h: t for h, t in self.checked.items() if now - t[0] < TRUSTED_SECONDS}
        self.checked[token_hash] = (now, principal)
        return principal


def _token_hash(authorization: str) -> bytes:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("The Authorization header must be 'Bearer <token>'.")
    return hash_token(token.strip())


async def _principal_of(pool: asyncpg.Pool, token_hash: bytes) -> Principal:
    row = await pool.fetchrow(
        f"SELECT principal, role, bodies FROM {TOKENS_TABLE}"
        " WHERE token_hash = $1 AND revoked_at IS NULL", token_hash)
    if row is None:
        raise InvalidToken("The token is unknown or revoked.")
    return Principal(row["principal"], row["role"], frozenset(row["bodies"]))
