import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** How often Node looks for requests past their time (its default is 30 s, so a 30 s limit could take a minute). */
const CHECK_EVERY_MS = 1_000;

/**
 * Requests one connection may have unanswered at once (HTTP/1.1 pipelining). Browsers, proxies
 * (nginx sends one request per upstream connection) and HTTP clients such as undici send the
 * next request once the last one is answered.
 */
export const MAX_PIPELINED_REQUESTS = 16;

/**
 * Answers no request whose connection is gone, and closes a connection that has more than
 * {@link MAX_PIPELINED_REQUESTS} requests unanswered. Node parses every request a client has
 * already sent on a connection and hands each to the app, however many and whether or not the
 * client reads the answers or is still there: an outside review pipelined 3,000
 * `GET /.well-known/openid-configuration` on each of 200 connections (36 MB sent) without
 * reading, and the hub's heap grew past 2 GB, no other request was answered within 10 s for
 * about 90 s, and it went on answering the dead connections for 30 s after the client had
 * closed them.
 */
function withBoundedPipelining(listener: RequestListener): RequestListener {
  const unanswered = new WeakMap<Socket, number>();
  return (req: IncomingMessage, res: ServerResponse) => {
    const { socket } = req;
    if (socket.destroyed) return; // its client has gone (or was cut off below): nobody to answer
    const count = (unanswered.get(socket) ?? 0) + 1;
    if (count > MAX_PIPELINED_REQUESTS) {
      socket.destroy();
      return;
    }
    unanswered.set(socket, count);
    res.once('close', () => unanswered.set(socket, (unanswered.get(socket) ?? 1) - 1));
    listener(req, res);
  };
}

/**
 * The hub's HTTP server, with its own time limits. Node lets a request take 300 s to arrive
 * (`requestTimeout`) and its headers 60 s: a client that sends a body a byte every few seconds
 * (an outside review: `POST /token`, one byte every 5 s) held a connection and its request for
 * five minutes before a 408. Every request the hub serves is small, so a request that has not
 * arrived whole within `requestTimeoutMs` gets Node's `408` and the connection is closed; its
 * headers, within the same time or 60 s, whichever is shorter. Pipelined requests are bounded
 * per connection ({@link MAX_PIPELINED_REQUESTS}).
 */
export function createHubServer(listener: RequestListener, requestTimeoutMs: number): Server {
  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(60_000, requestTimeoutMs),
      connectionsCheckingInterval: Math.min(CHECK_EVERY_MS, requestTimeoutMs),
    },
    withBoundedPipelining(listener),
  );
  server.on('clientError', answerUnparsed);
  return server;
}

/** What a request Node could not parse is told, by Node's error code: the status line and the page's words (English, then Chinese). */
function refusalOf(code: string | undefined): { status: number; reason: string; en: string; zh: string } {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, reason: 'Request Header Fields Too Large', en: 'This address is too long, or the browser sent too many cookies. Go back and try again; if it keeps happening, clear this site’s cookies.', zh: '此地址过长，或浏览器发送的 Cookie 过多。请返回重试；如果仍然出现，请清除此网站的 Cookie。' };
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, reason: 'Request Timeout', en: 'The request took too long to arrive. Please try again.', zh: '请求到达时间过长。请重试。' };
  }
  return { status: 400, reason: 'Bad Request', en: 'The request could not be understood.', zh: '无法理解此请求。' };
}

/**
 * A request Node's parser refused before the hub saw it (headers past 16 KB: a 20,000-character
 * query string; malformed bytes; too slow) got Node's bare status line and an empty page in the
 * browser (an exploratory review). Now a short page that says what happened, with the headers the
 * hub's pages carry (nothing to run, not framed, not cached); the connection is closed as Node
 * closes it. A reset connection, one that can no longer be written to, or one whose answer in
 * flight has begun, is only closed, as Node does.
 */
function answerUnparsed(error: NodeJS.ErrnoException, socket: Duplex): void {
  // As Node's own answer: not while an answer on this connection has begun (these bytes would be
  // mixed into it); a keep-alive connection whose earlier answers are done is answered (a review:
  // only a fresh connection was, and a reused one was closed without a word).
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, reason, en, zh } = refusalOf(error.code);
  const body = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${reason}</title></head><body><h1>${reason}</h1><p>${en}</p><p lang="zh-CN">${zh}</p></body></html>\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n\r\n${body}`,
  );
}
