// A reader for text/event-stream bodies in tests (web APIs only: runs in Node and workerd).

import { settleWithin } from "../../contracts/settle-within.ts";

export interface ServerSentEvent {
  event: string;
  id: string | undefined;
  data: string;
  /** performance.now() when the event's last line arrived. */
  receivedAt: number;
  /** Date.now() then (to compare with timestamps written by the same process). */
  receivedWallAt: number;
}

export interface EventReader {
  /** The next event; null once the stream has ended. Rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<ServerSentEvent | null>;
  /** Comment lines seen so far (e.g. keep-alives). */
  comments: string[];
  /** Stops reading: the server sees the client go away. */
  cancel(): Promise<void>;
}

/** Parses an event stream as it arrives (the spec's line rules: `field: value`, blank line ends). */
export function readEvents(body: ReadableStream<Uint8Array>): EventReader {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const comments: string[] = [];
  let buffer = "";
  let ended = false;
  let fields: { event?: string; id?: string; data: string[] } = { data: [] };

  function takeEvent(): ServerSentEvent | null {
    for (;;) {
      const newline = buffer.indexOf("\n");
      if (newline < 0) return null;
      const line = buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
      if (line === "") {
        const done = fields;
        fields = { data: [] };
        if (done.data.length === 0 && done.event === undefined) continue;
        return {
          event: done.event ?? "message",
          id: done.id,
          data: done.data.join("\n"),
          receivedAt: performance.now(),
          receivedWallAt: Date.now(),
        };
      }
      if (line.startsWith(":")) {
        comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(":");
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (name === "event") fields.event = value;
      else if (name === "id") fields.id = value;
      else if (name === "data") fields.data.push(value);
    }
  }

  async function next(timeoutMs = 5_000): Promise<ServerSentEvent | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const event = takeEvent();
      if (event) return event;
      if (ended) return null;
      const read = await settleWithin(reader.read(), deadline - performance.now());
      if (!read.settled) throw new Error(`no event within ${timeoutMs} ms`);
      if (read.value.done) ended = true;
      else buffer += decoder.decode(read.value.value, { stream: true });
    }
  }

  return { next, comments, cancel: () => reader.cancel() };
}
