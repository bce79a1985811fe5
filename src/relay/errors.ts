/** A refusal or failure the relay answers with `{ "error": { "code", "message" } }` and this status. */
export class RelayError extends Error {
  override readonly name = 'RelayError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers (Retry-After, Allow). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * The relay's own answers carry their code and message in headers too: a HEAD answer has no body, and a
 * client must still tell "the relay could not reach the registry" from "the registry answered".
 * The message is percent-encoded (header values are bytes, not text).
 */
export const RELAY_ERROR_HEADER = 'skiff-relay-error';
export const RELAY_MESSAGE_HEADER = 'skiff-relay-message';

/** The headers that mark an answer as the relay's own. */
export function relayErrorHeaders(code: string, message: string): Record<string, string> {
  return { [RELAY_ERROR_HEADER]: code, [RELAY_MESSAGE_HEADER]: encodeURIComponent(message) };
}
