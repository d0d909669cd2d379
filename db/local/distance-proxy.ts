import { once } from "node:events";
import { createServer, connect, type AddressInfo, type Socket } from "node:net";

// A database far away, on one machine: a TCP proxy in front of a Postgres wire endpoint (a server,
// the wire gateway's TCP port, or its Neon-style WebSocket bridge) that holds every byte for half a
// round trip in each direction and counts the round trips clients make. Used by `bench:edge` to
// show what a submit costs when the edge is in Sydney and the database in Virginia.

export interface DistanceProxyOptions {
  /** Where the database listens (127.0.0.1 only: this is a measurement tool). */
  target: { host: string; port: number };
  /** Simulated round trip; 0 still counts. */
  roundTripMs: number;
}

/**
 * What clients did through the proxy. A round trip is one flight: bytes a client sends after it
 * has heard from the server (or its first bytes), whatever the number of writes or statements in
 * it, so pipelined messages count once, as they would cost once over a real distance. A new
 * connection costs one more (the TCP handshake); TLS, where a deployment has it, adds more.
 */
export interface DistanceStats {
  connections: number;
  roundTrips: number;
  /**
   * Flights whose answer has reached the client (handshakes not counted): at the moment a caller
   * gets its own answer, the round trips it waited for are answered, work started behind it not.
   */
  answered: number;
}

export interface DistanceProxy {
  host: string;
  port: number;
  /** `url` with its host and port replaced by the proxy's (postgres:// URLs, `host:port/path`). */
  via(url: string): string;
  stats(): DistanceStats;
  /** Changes the distance for every byte sent from now on, open connections included. */
  setRoundTripMs(ms: number): void;
  close(): Promise<void>;
}

export async function startDistanceProxy(opts: DistanceProxyOptions): Promise<DistanceProxy> {
  let roundTripMs = opts.roundTripMs;
  const stats: DistanceStats = { connections: 0, roundTrips: 0, answered: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    stats.connections += 1;
    stats.roundTrips += 1; // SYN, SYN-ACK: the connection itself
    const upstream = connect(opts.target.port, opts.target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.once("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    // The handshake's round trip comes before anything the client sends.
    const toServer = new DelayLine(performance.now() + roundTripMs);
    const toClient = new DelayLine(0);
    let heardBack = true;
    let awaiting = 0;
    client.on("data", (chunk: Buffer) => {
      if (heardBack) {
        stats.roundTrips += 1;
        awaiting += 1;
      }
      heardBack = false;
      toServer.push(roundTripMs / 2, () => upstream.write(chunk));
    });
    upstream.on("data", (chunk: Buffer) => {
      toClient.push(roundTripMs / 2, () => {
        heardBack = true;
        stats.answered += awaiting;
        awaiting = 0;
        client.write(chunk);
      });
    });
    client.on("end", () => toServer.push(roundTripMs / 2, () => upstream.end()));
    upstream.on("end", () => toClient.push(roundTripMs / 2, () => client.end()));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const host = "127.0.0.1";
  return {
    host,
    port,
    via: (url) => url.replace(`${opts.target.host}:${opts.target.port}`, `${host}:${port}`),
    stats: () => ({ ...stats }),
    setRoundTripMs(ms) {
      roundTripMs = ms;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** One direction of a link: each item is delivered `delayMs` after it was sent, in order. */
class DelayLine {
  readonly #items: Array<{ at: number; deliver: () => void }> = [];
  #timer: NodeJS.Timeout | undefined;
  /** Nothing is delivered before this (the connection's handshake). */
  #notBefore: number;

  constructor(notBefore: number) {
    this.#notBefore = notBefore;
  }

  push(delayMs: number, deliver: () => void): void {
    this.#items.push({ at: Math.max(performance.now() + delayMs, this.#notBefore), deliver });
    if (this.#timer === undefined) this.#drain();
  }

  #drain = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#items.length > 0 && this.#items[0]!.at <= now) this.#items.shift()!.deliver();
    const next = this.#items[0];
    if (next) this.#timer = setTimeout(this.#drain, Math.max(0, next.at - now));
  };
}
