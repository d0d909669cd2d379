// The few facts of the Postgres frontend/backend protocol (v3) the local wire gateway needs: how a
// client's byte stream splits into messages, which messages end a unit of work (the server answers
// each with ReadyForQuery), and the messages the gateway itself writes. No I/O here.

/** Protocol version 3.0, the startup packet's code. */
const PROTOCOL_3 = 196_608;
const SSL_REQUEST = 80_877_103;
const GSSENC_REQUEST = 80_877_104;
const CANCEL_REQUEST = 80_877_102;

/** A message larger than this is refused (Postgres itself caps messages at 1 GB). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export type FrontendMessage =
  /** SSLRequest or GSSENCRequest: answered "N" (loopback, no encryption). */
  | { kind: "encryption-request" }
  | { kind: "cancel-request" }
  | { kind: "startup"; bytes: Uint8Array }
  /** Every message after startup: one type byte, then an int32 length. */
  | { kind: "typed"; type: string; bytes: Uint8Array };

export class WireProtocolError extends Error {
  override readonly name = "WireProtocolError";
}

/**
 * Splits one connection's bytes into frontend messages: the untyped startup-phase packets first
 * (SSLRequest, GSSENCRequest, CancelRequest, StartupMessage), then typed messages.
 */
export class FrontendMessageReader {
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;

  /** The messages completed by `chunk`; throws WireProtocolError on a malformed stream. */
  push(chunk: Uint8Array): FrontendMessage[] {
    this.buffer =
      this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    const out: FrontendMessage[] = [];
    for (;;) {
      const message = this.started ? this.nextTyped() : this.nextStartup();
      if (!message) return out;
      out.push(message);
    }
  }

  private nextStartup(): FrontendMessage | null {
    if (this.buffer.length < 8) return null;
    const length = this.checkedLength(this.buffer.readInt32BE(0), 8);
    if (this.buffer.length < length) return null;
    const bytes = this.take(length);
    const code = bytes.readInt32BE(4);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) return { kind: "encryption-request" };
    if (code === CANCEL_REQUEST) return { kind: "cancel-request" };
    if (code !== PROTOCOL_3) throw new WireProtocolError(`unsupported protocol version ${code}`);
    this.started = true;
    return { kind: "startup", bytes };
  }

  private nextTyped(): FrontendMessage | null {
    if (this.buffer.length < 5) return null;
    const length = this.checkedLength(this.buffer.readInt32BE(1), 4) + 1;
    if (this.buffer.length < length) return null;
    const bytes = this.take(length);
    return { kind: "typed", type: String.fromCharCode(bytes[0]!), bytes };
  }

  private checkedLength(length: number, min: number): number {
    if (length < min || length > MAX_MESSAGE_BYTES) {
      throw new WireProtocolError(`invalid message length ${length}`);
    }
    return length;
  }

  private take(length: number): Buffer {
    // A copy: the rest of the buffer is kept, and the message outlives this call.
    const bytes = Buffer.from(this.buffer.subarray(0, length));
    this.buffer = this.buffer.subarray(length);
    return bytes;
  }
}

/**
 * Whether the server answers `message` with ReadyForQuery: the end of a simple query, of an
 * extended-protocol sequence (Sync), of a function call, or of the startup exchange. Between
 * such messages a client's work must not be interleaved with another client's on one session.
 */
export const endsUnit = (message: FrontendMessage): boolean =>
  message.kind === "startup" ||
  (message.kind === "typed" &&
    (message.type === "S" || message.type === "Q" || message.type === "F"));

/** Terminate ("X"): the client is leaving. */
export const isTerminate = (message: FrontendMessage): boolean =>
  message.kind === "typed" && message.type === "X";

function typed(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const cstring = (text: string) => Buffer.from(`${text}\0`, "utf8");

/** Sync: ends an extended-protocol sequence (and leaves the "ignore until Sync" error state). */
export const syncMessage = (): Buffer => typed("S", Buffer.alloc(0));

/** A simple Query message. */
export const queryMessage = (sql: string): Buffer => typed("Q", cstring(sql));

/** The answer to SSLRequest / GSSENCRequest: not supported, go on unencrypted. */
export const ENCRYPTION_REFUSED = Buffer.from("N", "latin1");

/** A FATAL ErrorResponse (the server closes the connection after it). */
export function fatalError(sqlState: string, message: string): Buffer {
  return typed(
    "E",
    Buffer.concat([
      cstring("SFATAL"),
      cstring("VFATAL"),
      cstring(`C${sqlState}`),
      cstring(`M${message}`),
      Buffer.from([0]),
    ]),
  );
}
