import type { Duplex } from "node:stream";
import type { PGlite } from "@electric-sql/pglite";
import {
  ENCRYPTION_REFUSED,
  FrontendMessageReader,
  endsUnit,
  fatalError,
  isTerminate,
  queryMessage,
  syncMessage,
  type FrontendMessage,
} from "./wire-protocol.ts";

// PGlite has one Postgres session; every wire client shares it. Clients therefore take turns: a
// client holds the session from the first message of a unit of work (a simple query, an extended-
// protocol sequence up to its Sync) until the server is ready for the next query and no transaction
// is open. Nobody else's Parse can replace its unnamed statement between its Parse and its Bind,
// nobody's query runs inside its transaction, and one client's error cannot put another's messages
// into "ignore until Sync". A holder that goes quiet is cut off after `holdTimeoutMs`; one that
// leaves mid-way has its unit ended and its transaction rolled back before the next client's turn.

export interface WireSessionOptions {
  /** Connections beyond this are refused with SQLSTATE 53300. */
  maxConnections: number;
  /** Longest a client may hold the session (mid-unit or in a transaction) without sending more. */
  holdTimeoutMs: number;
}

export class PgliteWireSession {
  /** A wire client, or an HTTP request's token (sql-over-http.ts): whoever holds the session. */
  private holder: object | null = null;
  private readonly queue: Array<{ client: object; turn: (granted: boolean) => void }> = [];
  private readonly clients = new Set<WireClient>();
  private closed = false;
  private readonly pglite: PGlite;
  private readonly opts: WireSessionOptions;

  constructor(pglite: PGlite, opts: WireSessionOptions) {
    this.pglite = pglite;
    this.opts = opts;
  }

  /** Serves one client connection (a TCP socket, or a WebSocket's byte stream). */
  attach(stream: Duplex): void {
    if (this.closed || this.clients.size >= this.opts.maxConnections) {
      const refusal = this.closed
        ? fatalError("57P01", "the local wire gateway is shutting down")
        : fatalError(
            "53300",
            `too many connections to the local wire gateway (at most ${this.opts.maxConnections})`,
          );
      stream.end(refusal, () => stream.destroy());
      return;
    }
    const client = new WireClient(stream, this, this.opts.holdTimeoutMs);
    this.clients.add(client);
    stream.once("close", () => this.clients.delete(client));
  }

  /** Ends every connection; resolves once none holds or waits for the session. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.clients].map((client) => client.close()));
  }

  /** Resolves true when it is `client`'s turn, false if it left while waiting. */
  acquire(client: object): Promise<boolean> {
    if (this.holder === null) {
      this.holder = client;
      return Promise.resolve(true);
    }
    return new Promise((turn) => this.queue.push({ client, turn }));
  }

  release(client: object): void {
    if (this.holder !== client) return;
    const next = this.queue.shift();
    this.holder = next?.client ?? null;
    next?.turn(true);
  }

  /** A client that left stops waiting for its turn. */
  forget(client: object): void {
    const i = this.queue.findIndex((w) => w.client === client);
    if (i !== -1) this.queue.splice(i, 1)[0]!.turn(false);
  }

  /** Runs one message on the session; the server's answer goes to `reply` as it is produced. */
  async run(message: Uint8Array, reply: (bytes: Buffer) => void): Promise<void> {
    await this.pglite.runExclusive(() =>
      this.pglite.execProtocolRawStream(message, {
        // Copied: the bytes are a view of PGlite's memory, reused by the next message.
        onRawData: (bytes) => reply(Buffer.from(bytes)),
      }),
    );
  }

  get inTransaction(): boolean {
    return this.pglite.isInTransaction();
  }

  /** After a holder left mid-way: end its unit (Sync) and roll back what it left open. */
  async reset(): Promise<void> {
    const discard = () => {};
    await this.run(syncMessage(), discard);
    if (this.inTransaction) await this.run(queryMessage("ROLLBACK"), discard);
  }
}

class WireClient {
  private readonly reader = new FrontendMessageReader();
  /** Messages PGlite runs: the startup packet and typed messages. */
  private readonly pending: Array<Extract<FrontendMessage, { bytes: Uint8Array }>> = [];
  private holding = false;
  private pumping: Promise<void> | null = null;
  private closed = false;
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly stream: Duplex;
  private readonly session: PgliteWireSession;
  private readonly holdTimeoutMs: number;

  constructor(stream: Duplex, session: PgliteWireSession, holdTimeoutMs: number) {
    this.stream = stream;
    this.session = session;
    this.holdTimeoutMs = holdTimeoutMs;
    stream.on("data", (chunk: Buffer) => this.receive(chunk));
    stream.on("error", () => void this.close());
    stream.on("close", () => void this.close());
  }

  /** Leaves: stops waiting, or hands the session back clean. Resolves once it holds nothing. */
  close(): Promise<void> {
    this.shut();
    return this.pump();
  }

  /** Stops reading and waiting; `last` (a FATAL error) is sent before the connection ends. */
  private shut(last?: Buffer): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.holdTimer);
    this.session.forget(this);
    if (last && this.stream.writable) {
      this.stream.end(last, () => this.stream.destroy());
    } else {
      this.stream.destroy();
    }
  }

  private receive(chunk: Buffer): void {
    let messages: FrontendMessage[];
    try {
      messages = this.reader.push(chunk);
    } catch (error) {
      this.fail("08P01", (error as Error).message);
      return;
    }
    for (const message of messages) {
      if (message.kind === "encryption-request") this.stream.write(ENCRYPTION_REFUSED);
      else if (message.kind === "cancel-request") void this.close();
      else this.pending.push(message);
    }
    void this.pump();
  }

  /** Runs pending messages in order, one pump at a time; the returned promise ends with it. */
  private pump(): Promise<void> {
    this.pumping ??= this.drain().finally(() => (this.pumping = null));
    return this.pumping;
  }

  private async drain(): Promise<void> {
    clearTimeout(this.holdTimer);
    try {
      while (!this.closed && this.pending.length > 0) {
        const message = this.pending.shift()!;
        if (isTerminate(message)) {
          this.shut();
          break;
        }
        if (!this.holding && !(this.holding = await this.session.acquire(this))) break;
        if (this.closed) break;
        await this.session.run(message.bytes, (bytes) => {
          if (this.stream.writable) this.stream.write(bytes);
        });
        if (endsUnit(message) && !this.session.inTransaction) this.handBack();
      }
      if (this.closed && this.holding) await this.session.reset();
    } catch {
      // PGlite failed the message: nothing sensible can follow on this connection.
      this.shut();
      if (this.holding) await this.session.reset().catch(() => {});
    }
    if (this.closed) this.handBack();
    else if (this.holding)
      this.holdTimer = setTimeout(() => this.holdTimedOut(), this.holdTimeoutMs);
  }

  private handBack(): void {
    if (!this.holding) return;
    this.holding = false;
    this.session.release(this);
  }

  private holdTimedOut(): void {
    const what = this.session.inTransaction ? "idle in a transaction" : "silent mid-query";
    this.fail(
      "25P03",
      `terminating connection: ${what} for ${this.holdTimeoutMs} ms while other clients wait for the local database`,
    );
  }

  private fail(sqlState: string, message: string): void {
    this.shut(fatalError(sqlState, message));
    void this.pump();
  }
}
