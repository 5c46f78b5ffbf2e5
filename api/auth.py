"""Bearer tokens and roles. A token is shown once when created and stored only as its SHA-256
(tokens are long random strings, so a plain hash is enough to make a stolen table useless).

Roles: `public` (no token: published records only), `clerk` (writes for its own bodies),
`auditor` (reads everything, including metadata and unpublished records), `admin` (everything)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

import asyncpg

Role = Literal["public", "clerk", "auditor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
TOKENS_TABLE = "bevoegd_tokens"
TOKEN_PREFIX = "bvg_"


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
    """Revokes every token of a principal; returns how many were live."""
    await setup_tokens(conn)
    result = await conn.execute(
        f"UPDATE {TOKENS_TABLE} SET revoked_at = now() WHERE principal = $1"
        " AND revoked_at IS NULL", principal)
    return int(result.split()[-1])


class InvalidToken(Exception):
    pass


async def principal_for(conn: asyncpg.Connection | asyncpg.Pool, authorization: str | None
                        ) -> Principal:
    """The principal of an `Authorization: Bearer ...` header; public without one."""
    if not authorization:
        return PUBLIC
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("The Authorization header must be 'Bearer <token>'.")
    row = await conn.fetchrow(
        f"SELECT principal, role, bodies FROM {TOKENS_TABLE}"
        " WHERE token_hash = $1 AND revoked_at IS NULL", hash_token(token.strip()))
    if row is None:
        raise InvalidToken("The token is unknown or revoked.")
    return Principal(row["principal"], row["role"], frozenset(row["bodies"]))
