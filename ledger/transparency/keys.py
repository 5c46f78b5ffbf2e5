"""Where the log's signing key comes from: `BEVOEGD_SIGNING_KEY` (the key's text) or
`BEVOEGD_SIGNING_KEY_FILE` (a file holding it), never the database, so that whoever controls the
database cannot sign a checkpoint. The key's name is the log's origin (the checkpoints' first
line), as C2SP tlog-checkpoint advises."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ledger.transparency import TransparencyError
from ledger.transparency.note import Signer

SIGNING_KEY_VARIABLE = "BEVOEGD_SIGNING_KEY"
SIGNING_KEY_FILE_VARIABLE = "BEVOEGD_SIGNING_KEY_FILE"


class SigningKeyUnavailable(TransparencyError):
    """The configuration names a signing key that cannot be read."""


def configured_signer(environ: Mapping[str, str] = os.environ) -> Signer | None:
    """The configured signing key; None when none is configured (then nothing is signed)."""
    text = environ.get(SIGNING_KEY_VARIABLE)
    where = SIGNING_KEY_VARIABLE
    if not text and (path := environ.get(SIGNING_KEY_FILE_VARIABLE)):
        where = f"{SIGNING_KEY_FILE_VARIABLE} ({path})"
        try:
            text = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise SigningKeyUnavailable(f"{where} cannot be read: {error}") from None
    if not text:
        return None
    try:
        return Signer.from_text(text.strip())
    except TransparencyError as error:
        raise SigningKeyUnavailable(f"{where} holds no signing key: {error}") from None


def write_signing_key(path: Path, signer: Signer) -> None:
    """Writes the key for its owner's eyes only; an existing file is never overwritten."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(signer.text() + "\n")
