import { errors } from 'oidc-provider';

/**
 * A 503 `temporarily_unavailable` answer on a protocol endpoint for a condition that is no
 * fault and passes (a claim another request holds, too many password checks waiting): the
 * client is invited to retry. RFC 6749 §5.2 has no such code for the token endpoint; it is
 * the one every client library reads as "try again", as for a store that is down.
 */
export class TemporarilyUnavailableAnswer extends errors.OIDCProviderError {
  constructor(description: string) {
    super(503, 'temporarily_unavailable');
    this.error_description = description;
    // Answered as it is (oidc-provider would make any 5xx a server_error).
    this.expose = true;
  }
}
