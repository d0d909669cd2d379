/** A server-sent-events body fed by `run`, which writes until it returns or the client leaves. */
export interface SseBody {
  body: ReadableStream<Uint8Array>;
  /** Settles when the stream has ended (run returned or failed, or the client went away). */
  done: Promise<void>;
}

const encoder = new TextEncoder();

export function sseBody(
  run: (write: (text: string) => void, isClosed: () => boolean) => Promise<void>,
  onError: (err: unknown) => void,
): SseBody {
  let closed = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          closed = true; // the client went away
        }
      };
      void run(write, () => closed)
        .catch(onError)
        .finally(() => {
          if (!closed) {
            closed = true;
            controller.close();
          }
          finish();
        });
    },
    cancel() {
      closed = true;
    },
  });
  return { body, done };
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  // Proxies (nginx) must not buffer the stream.
  "x-accel-buffering": "no",
} as const;
