import { createServer, type RequestListener, type Server } from 'node:http';

/** How often Node looks for requests past their time (its default is 30 s, so a 30 s limit could take a minute). */
const CHECK_EVERY_MS = 1_000;

/**
 * The hub's HTTP server, with its own time limits. Node lets a request take 300 s to arrive
 * (`requestTimeout`) and its headers 60 s: a client that sends a body a byte every few seconds
 * (an outside review: `POST /token`, one byte every 5 s) held a connection and its request for
 * five minutes before a 408. Every request the hub serves is small, so a request that has not
 * arrived whole within `requestTimeoutMs` gets Node's `408` and the connection is closed; its
 * headers, within the same time or 60 s, whichever is shorter.
 */
export function createHubServer(listener: RequestListener, requestTimeoutMs: number): Server {
  return createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(60_000, requestTimeoutMs),
      connectionsCheckingInterval: Math.min(CHECK_EVERY_MS, requestTimeoutMs),
    },
    listener,
  );
}
