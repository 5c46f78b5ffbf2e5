"""The Mutation root: one mutation per command of the application service, made from the
command registry. Each takes a required `idempotencyKey` and the command's input, and answers
with the result, the ledger position and the refusals (`userErrors`) with the ledger's codes.
The resolvers only authorise and call the application service."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from pydantic import ValidationError
from strawberry.scalars import JSON

from api.schema.context import ContextInfo
from api.schema.errors import Forbidden, Unauthenticated
from api.schema.inputs import camel, input_type, pascal, plain
from api.schema.types import UserError
from ledger.commands import COMMANDS, Command
from ledger.errors import LedgerError
from ledger.pipeline import CommandContext

MAX_KEY_LENGTH = 200
IdempotencyKey = Annotated[str, strawberry.argument(
    description="A key unique to this command (1 to 200 characters); repeating it returns the "
                "first answer, acceptance or refusal, and stores nothing, so retries are safe. "
                "To try a refused command again, use a new key.")]
CorrelationId = Annotated[str | None, strawberry.argument(
    description="Groups the events of several commands (one import, one user action); "
                "recorded with each event.")]


@strawberry.type(description="The answer to a command: its result and ledger position when "
                             "accepted, or the refusals when not (then no event was stored).")
class CommandPayload:
    command: str = strawberry.field(description="The command's name.")
    result: JSON | None = strawberry.field(
        description="What the command recorded, e.g. the codes of the records it made.")
    position: int | None = strawberry.field(
        description="The ledger position of its last event: pass it as `atLeast` to read your "
                    "own write.")
    replayed: bool = strawberry.field(
        description="True when the idempotency key was seen before with this command: this is "
                    "the first answer again (its result, or its refusals), the command was not "
                    "checked again, and nothing new was stored.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the command was refused (rule codes of the ledger); empty if accepted.")


def _refused(name: str, *errors: UserError, replayed: bool = False) -> CommandPayload:
    return CommandPayload(command=name, result=None, position=None, replayed=replayed,
                          user_errors=list(errors))


def _invalid(name: str, error: ValidationError) -> CommandPayload:
    return _refused(name, *(
        UserError(code="INVALID_COMMAND", message=problem["msg"],
                  field=".".join(["input", *(camel(str(part)) for part in problem["loc"])]))
        for problem in error.errors()))


def _argument(field: str | None) -> str | None:
    """A refusal's field as the path of the mutation's argument it concerns."""
    if field is None:
        return None
    if field == "idempotency_key":
        return "idempotencyKey"
    return f"input.{camel(field)}"


async def run_command(info: ContextInfo, command_type: type[Command], idempotency_key: str,
                      raw_input: Any, correlation_id: str | None) -> CommandPayload:
    principal = info.context.principal
    if not principal.may_write:
        if principal.role == "public":
            raise Unauthenticated("Writing needs a token: send 'Authorization: Bearer <token>'.")
        raise Forbidden(f"The role '{principal.role}' may not write.")
    if not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        return _refused(command_type.name, UserError(
            code="INVALID_COMMAND", field="idempotencyKey",
            message=f"The idempotency key has 1 to {MAX_KEY_LENGTH} characters."))
    try:
        command = command_type.model_validate(plain(raw_input))
    except ValidationError as error:
        return _invalid(command_type.name, error)
    ledger = info.context.ledger
    acting = await info.context.availability.in_thread(ledger.acting_body, command)
    if not principal.may_act_for(acting):
        raise Forbidden(f"{principal.name} may not record '{command_type.name}' for "
                        f"{acting or 'the structure of government'}.")
    context = CommandContext(idempotency_key, actor=principal.name, correlation_id=correlation_id)
    try:
        outcome = await info.context.availability.in_thread(ledger.execute, command, context)
    except LedgerError as refusal:
        return _refused(command_type.name, UserError(
            code=refusal.code, message=refusal.message, field=_argument(refusal.field)),
            replayed=refusal.replayed)
    return CommandPayload(command=command_type.name, result=outcome.result,
                          position=outcome.position, replayed=outcome.replayed, user_errors=[])


def _mutation_field(command_type: type[Command]) -> Any:
    argument = input_type(command_type, f"{pascal(command_type.name)}Input")

    async def resolve(info: ContextInfo, idempotency_key: str, input: Any,
                      correlation_id: str | None = None) -> CommandPayload:
        return await run_command(info, command_type, idempotency_key, input, correlation_id)

    # the input's type is made at run time, so it is set here rather than in the signature
    resolve.__annotations__ = {"info": ContextInfo, "idempotency_key": IdempotencyKey,
                               "input": Annotated[argument, strawberry.argument(
                                   description="The command's input.")],
                               "correlation_id": CorrelationId, "return": CommandPayload}

    doc = (command_type.__doc__ or "").strip()
    return strawberry.mutation(
        resolve, name=camel(command_type.name),
        description=(f"Records the command `{command_type.name}`. " + doc).strip()
        + " Repeating the same idempotencyKey returns the first answer and stores nothing.")


Mutation = strawberry.type(
    type("Mutation", (), {name: _mutation_field(cls) for name, cls in COMMANDS.items()}),
    description="Every command of the ledger. Writing needs a clerk's or admin's token.")
