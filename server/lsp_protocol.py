"""The LSP protocol with one repair: a request whose params do not validate gets an answer.

pygls deserialises each message in `structure_message` (the `json.loads` object hook); when a
request's params fail validation it logs the error and drops the message, and the client waits
forever. Here such a request becomes an `InvalidRequest` that `handle_message` answers with the
JSON-RPC error -32602 (InvalidParams) naming what is wrong.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs
from cattrs import transform_error
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

logger = logging.getLogger(__name__)

MAX_PROBLEMS = 3


@attrs.define
class InvalidRequest:
    """A request that could not be deserialised, and why."""

    id: int | str
    method: str
    reason: str


def why_invalid(err: Exception) -> str:
    """cattrs' per-field messages ("required field missing @ $.params.context"), or the error."""
    cause = err.__cause__
    try:
        problems = transform_error(cause) if cause is not None else []
    except Exception:  # not a cattrs validation error after all
        problems = []
    return "; ".join(problems[:MAX_PROBLEMS]) or str(cause or err)


class NanopilotProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcInvalidParams as err:
            if "id" in data and isinstance(data.get("method"), str):
                return InvalidRequest(data["id"], data["method"], why_invalid(err))
            raise

    def handle_message(self, message) -> None:
        if not isinstance(message, InvalidRequest):
            super().handle_message(message)
            return
        logger.warning("invalid params for %s: %s", message.method, message.reason)
        error = types.ResponseError(
            code=JsonRpcInvalidParams.CODE,
            message=f"invalid params for {message.method}: {message.reason}",
        )
        self._send_response(message.id, error=error)
