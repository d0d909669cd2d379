import { describe, expect, it } from "vitest";
import {
  FrontendMessageReader,
  WireProtocolError,
  endsUnit,
  fatalError,
  queryMessage,
  syncMessage,
  type FrontendMessage,
} from "./wire-protocol.ts";

function startupPacket(): Buffer {
  const params = Buffer.from("user\0postgres\0database\0postgres\0\0", "latin1");
  const packet = Buffer.alloc(8 + params.length);
  packet.writeInt32BE(packet.length, 0);
  packet.writeInt32BE(196_608, 4);
  params.copy(packet, 8);
  return packet;
}

function sslRequest(): Buffer {
  const packet = Buffer.alloc(8);
  packet.writeInt32BE(8, 0);
  packet.writeInt32BE(80_877_103, 4);
  return packet;
}

const kinds = (messages: FrontendMessage[]) =>
  messages.map((m) => (m.kind === "typed" ? m.type : m.kind));

describe("FrontendMessageReader", () => {
  it("splits a stream arriving a byte at a time into the startup packet, then typed messages", () => {
    const stream = Buffer.concat([
      sslRequest(),
      startupPacket(),
      queryMessage("select 1"),
      syncMessage(),
    ]);
    const reader = new FrontendMessageReader();
    const seen: FrontendMessage[] = [];
    for (const byte of stream) seen.push(...reader.push(Uint8Array.of(byte)));
    expect(kinds(seen)).toEqual(["encryption-request", "startup", "Q", "S"]);
    const query = seen[2] as Extract<FrontendMessage, { kind: "typed" }>;
    expect(Buffer.from(query.bytes)).toEqual(queryMessage("select 1"));
  });

  it("returns every message a chunk completes and keeps the rest", () => {
    const reader = new FrontendMessageReader();
    reader.push(startupPacket());
    const two = Buffer.concat([queryMessage("select 1"), syncMessage()]);
    expect(kinds(reader.push(two.subarray(0, two.length - 2)))).toEqual(["Q"]);
    expect(kinds(reader.push(two.subarray(two.length - 2)))).toEqual(["S"]);
  });

  it("refuses a length no message can have and an unknown protocol version", () => {
    const bad = Buffer.concat([startupPacket(), Buffer.from([0x51, 0xff, 0xff, 0xff, 0xff])]);
    expect(() => new FrontendMessageReader().push(bad)).toThrow(WireProtocolError);
    const v2 = Buffer.alloc(8);
    v2.writeInt32BE(8, 0);
    v2.writeInt32BE(131_072, 4);
    expect(() => new FrontendMessageReader().push(v2)).toThrow(/protocol version/);
  });
});

describe("units of work", () => {
  it("end where the server answers ReadyForQuery: Sync, Query, FunctionCall, startup", () => {
    const typed = (type: string): FrontendMessage => ({
      kind: "typed",
      type,
      bytes: new Uint8Array(),
    });
    expect(["S", "Q", "F"].map((t) => endsUnit(typed(t)))).toEqual([true, true, true]);
    // Parse, Bind, Describe, Execute, Flush, Close: more of the same unit follows.
    expect(["P", "B", "D", "E", "H", "C"].some((t) => endsUnit(typed(t)))).toBe(false);
    expect(endsUnit({ kind: "startup", bytes: startupPacket() })).toBe(true);
  });
});

describe("fatalError", () => {
  it("is an ErrorResponse with severity, SQLSTATE and message fields", () => {
    const bytes = fatalError("53300", "too many");
    expect(String.fromCharCode(bytes[0]!)).toBe("E");
    expect(bytes.readInt32BE(1)).toBe(bytes.length - 1);
    expect(bytes.subarray(5).toString("utf8")).toBe("SFATAL\0VFATAL\0C53300\0Mtoo many\0\0");
  });
});
