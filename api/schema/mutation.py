"""The Mutation root: one mutation per command of the application service, made from the
command registry. Each takes a required `idempotencyKey` and the command's input, and answers
with a payload of its own (`TakeDecisionPayload`): the record it concerns, the ledger position
and the refusals (`userErrors`) with the ledger's codes. The resolvers only authorise and call
the application service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from pydantic import ValidationError
from strawberry.scalars import JSON

from api.schema.context import Context, ContextInfo, Moment
from api.schema.errors import Forbidden, Unauthenticated
from api.schema.inputs import camel, input_type, pascal, plain
from api.schema.types import (
    Body,
    Commission,
    Competence,
    Consultation,
    Decision,
    Grant,
    Jurisdiction,
    UserError,
)
from ledger.commands import COMMANDS, Command, GrantInput
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


@strawberry.interface(description="The answer to a command: its ledger position when "
                                  "accepted, or the refusals when not (then no event was stored). "
                                  "Each command's payload also gives the record it concerns.")
class CommandPayload:
    command: str = strawberry.field(description="The command's name.")
    result: JSON | None = strawberry.field(
        description="What the command recorded, e.g. the codes of the records it made.",
        deprecation_reason="Untyped; read the record the payload gives (e.g. "
                           "`TakeDecisionPayload.decision`) instead.")
    position: int | None = strawberry.field(
        description="The ledger position of its last event: pass it as `atLeast` to read your "
                    "own write.")
    replayed: bool = strawberry.field(
        description="True when the idempotency key was seen before with this command: this is "
                    "the first answer again (its result, or its refusals), the command was not "
                    "checked again, and nothing new was stored.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the command was refused (rule codes of the ledger); empty if accepted.")


Finder = Callable[[Context, dict[str, Any], Moment], Awaitable[Any]]
RECORDS: dict[str, tuple[type, Finder]] = {
    # in order of precedence among the records a command names: fulfilling a commission names
    # the decision that fulfils it, but is about the commission
    "commission": (Commission, lambda context, result, moment: Commission.find(
        context, result["commission"], moment)),
    "consultation": (Consultation, lambda context, result, moment: Consultation.find(
        context, result["consultation"], moment)),
    "decision": (Decision, lambda context, result, moment: Decision.find(
        context, result["decision"], moment)),
    "grant": (Grant, lambda context, result, moment: Grant.find(
        context, result["competence"], result["jurisdiction"], result["grant"], moment)),
    "competence": (Competence, lambda context, result, moment: Competence.find(
        context, result["competence"], moment)),
    "body": (Body, lambda context, result, moment: Body.find(context, result["body"], moment)),
    "jurisdiction": (Jurisdiction, lambda context, result, moment: Jurisdiction.find(
        context, result["jurisdiction"], moment)),
    "region": (Jurisdiction, lambda context, result, moment: Jurisdiction.find(
        context, result["region"], moment)),
}
"""The records a payload can give, by the key of the command's result naming it."""


def subject(command_type: type[Command]) -> str | None:
    """The record a command concerns: the one it creates, else the first in RECORDS it names."""
    if command_type.creates in RECORDS:
        return command_type.creates
    named = set(command_type.model_fields)
    if issubclass(command_type, GrantInput):
        named.add("grant")  # its `code` is the grant's
    return next((kind for kind in RECORDS if kind in named), None)


def _record_field(kind: str) -> Any:
    record_type, find = RECORDS[kind]

    async def resolve(root: CommandPayload, info: ContextInfo) -> Any:
        if root.result is None or root.position is None:
            return None
        # the record as the read side has it once it applied the command's events
        moment = await info.context.moment(at_least=root.position)
        return await find(info.context, root.result, moment)

    resolve.__annotations__ = {"root": CommandPayload, "info": ContextInfo,
                               "return": record_type | None}
    return strawberry.field(
        resolver=resolve, description=f"The {camel(kind)} the command concerns, as the read "
                                      "side has it once it applied the command (null if refused).")


def payload_type(command_type: type[Command]) -> type[CommandPayload]:
    """The command's own payload type: CommandPayload with the record it concerns."""
    kind = subject(command_type)
    namespace: dict[str, Any] = {"__annotations__": {}}
    if kind is not None:
        namespace[kind] = _record_field(kind)
    name = f"{pascal(command_type.name)}Payload"
    return strawberry.type(type(name, (CommandPayload,), namespace),
                           description=f"The answer to `{camel(command_type.name)}`.")


def _refused(payload: type[CommandPayload], name: str, *errors: UserError,
             replayed: bool = False) -> CommandPayload:
    return payload(command=name, result=None, position=None, replayed=replayed,
                   user_errors=list(errors))


def _invalid(payload: type[CommandPayload], name: str, error: ValidationError
             ) -> CommandPayload:
    return _refused(payload, name, *(
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


async def run_command(info: ContextInfo, command_type: type[Command],
                      payload: type[CommandPayload], idempotency_key: str, raw_input: Any,
                      correlation_id: str | None) -> CommandPayload:
    principal = info.context.principal
    if not principal.may_write:
        if principal.role == "public":
            raise Unauthenticated("Writing needs a token: send 'Authorization: Bearer <token>'.")
        raise Forbidden(f"The role '{principal.role}' may not write.")
    if not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        return _refused(payload, command_type.name, UserError(
            code="INVALID_COMMAND", field="idempotencyKey",
            message=f"The idempotency key has 1 to {MAX_KEY_LENGTH} characters."))
    try:
        command = command_type.model_validate(plain(raw_input))
    except ValidationError as error:
        return _invalid(payload, command_type.name, error)
    ledger = info.context.ledger
    acting = await info.context.availability.in_thread(ledger.acting_body, command)
    if not principal.may_act_for(acting):
        raise Forbidden(f"{principal.name} may not record '{command_type.name}' for "
                        f"{acting or 'the structure of government'}.")
    context = CommandContext(idempotency_key, actor=principal.name, correlation_id=correlation_id)
    try:
        outcome = await info.context.availability.in_thread(ledger.execute, command, context)
    except LedgerError as refusal:
        return _refused(payload, command_type.name, UserError(
            code=refusal.code, message=refusal.message, field=_argument(refusal.field)),
            replayed=refusal.replayed)
    return payload(command=command_type.name, result=outcome.result, position=outcome.position,
                   replayed=outcome.replayed, user_errors=[])


def _mutation_field(command_type: type[Command]) -> Any:
    argument = input_type(command_type, f"{pascal(command_type.name)}Input")
    payload = payload_type(command_type)

    async def resolve(info: ContextInfo, idempotency_key: str, input: Any,
                      correlation_id: str | None = None) -> CommandPayload:
        return await run_command(info, command_type, payload, idempotency_key, input,
                                 correlation_id)

    # the input's type is made at run time, so it is set here rather than in the signature
    resolve.__annotations__ = {"info": ContextInfo, "idempotency_key": IdempotencyKey,
                               "input": Annotated[argument, strawberry.argument(
                                   description="The command's input.")],
                               "correlation_id": CorrelationId, "return": payload}

    doc = (command_type.__doc__ or "").strip()
    return strawberry.mutation(
        resolve, name=camel(command_type.name),
        description=(f"Records the command `{command_type.name}`. " + doc).strip()
        + " Repeating the same idempotencyKey returns the first answer and stores nothing.")


Mutation = strawberry.type(
    type("Mutation", (), {name: _mutation_field(cls) for name, cls in COMMANDS.items()}),
    description="Every command of the ledger. Writing needs a clerk's or admin's token.")
