import { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import { carryRequestId } from '../request-context.js';

/** Headers an internal request keeps from the outer one: where it came from, never cookies or credentials. */
const KEPT_HEADERS = ['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'user-agent', 'origin'];

export interface InternalRequest {
  method: 'GET' | 'POST';
  /** Path (and query) on the hub's protocol engine, e.g. `/token`. */
  path: string;
  headers?: Record<string, string>;
  /** Sent as an `application/x-www-form-urlencoded` body. */
  form?: URLSearchParams;
}

/**
 * A request to the protocol engine built from an outer one: same socket (so the client
 * address and TLS are the outer request's), a method, path, headers and form body of our
 * choosing. The legacy adapters use it to hand oidc-provider a request in the standard
 * shape instead of reimplementing an endpoint.
 */
export function internalRequest(from: Request, spec: InternalRequest): IncomingMessage {
  const request = new IncomingMessage(from.socket);
  request.method = spec.method;
  request.url = spec.path;
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const name of KEPT_HEADERS) {
    const value = from.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  Object.assign(headers, spec.headers);
  const body = spec.form ? Buffer.from(spec.form.toString()) : undefined;
  if (body) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = String(body.length);
    request.push(body);
  }
  request.push(null);
  // Whole from the start: an IncomingMessage destroyed while "incomplete" takes its socket with it.
  request.complete = true;
  request.headers = headers;
  carryRequestId(request, from); // its audit entries (token.issued, …) carry the id of the request sent
  return request;
}
