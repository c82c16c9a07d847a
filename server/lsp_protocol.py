"""The LSP protocol with two changes to pygls': open documents are kept as lines
(server/line_document.py), and a request whose params do not validate gets an answer.

pygls deserialises each message in `structure_message` (the `json.loads` object hook); when a
request's params fail validation it logs the error and drops the message, and the client waits
forever. Here such a request is routed, under its own id, to the built-in method
`INVALID_PARAMS`, whose handler raises JSON-RPC error -32602 (InvalidParams) naming what is
wrong; pygls answers a handler's JSON-RPC error as it answers any other (its public way, no
private call).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

from cattrs import transform_error
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol, lsp_method

from server.line_document import LineDocument

logger = logging.getLogger(__name__)

MAX_PROBLEMS = 3
INVALID_PARAMS = "nanopilot/invalidParams"  # never sent by a client: only routed here


def why_invalid(err: Exception) -> str:
    """cattrs' per-field messages ("required field missing @ $.params.context"), or the error."""
    cause = err.__cause__
    try:
        problems = transform_error(cause) if cause is not None else []
    except Exception:  # not a cattrs validation error after all
        problems = []
    return "; ".join(problems[:MAX_PROBLEMS]) or str(cause or err)


class NanopilotProtocol(LanguageServerProtocol):
    def line_document(
        self, uri: str, text: str, version: int | None, language_id: str | None
    ) -> LineDocument:
        """A document as lines, its columns in the position encoding agreed at initialize."""
        encoding = str(getattr(self.workspace.position_encoding, "value", "utf-16"))
        return LineDocument(uri, text, version, language_id, encoding)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        """pygls' own `didOpen`, with a LineDocument where it puts a TextDocument; then the
        server's handler, as pygls runs it."""
        item = params.text_document
        document = self.line_document(item.uri, item.text, item.version, item.language_id)
        self.workspace.text_documents[unquote(item.uri)] = document
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcInvalidParams as err:
            if "id" in data and isinstance(data.get("method"), str):
                params = {"method": data["method"], "reason": why_invalid(err)}
                return super().structure_message(
                    {**data, "method": INVALID_PARAMS, "params": params}
                )
            raise

    @lsp_method(INVALID_PARAMS)
    def invalid_params(self, params: Any) -> None:
        """The answer to a request whose params did not validate: error -32602."""
        method, reason = params.method, params.reason  # pygls gives unknown params as an object
        logger.warning("invalid params for %s: %s", method, reason)
        raise JsonRpcInvalidParams(f"invalid params for {method}: {reason}")
