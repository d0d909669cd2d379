import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

// A loopback stand-in for the CloudWatch API that records what the real SDK client sends, for
// tests: no AWS account, but the SDK's own serialisation, signing, compression and retries.
// The SDK of this project speaks the JSON 1.0 protocol to CloudWatch (X-Amz-Target headers).

export interface RecordedCall {
  /** The operation, from X-Amz-Target (e.g. "PutMetricData"). */
  operation: string;
  headers: IncomingHttpHeaders;
  /** The request body as JSON (gunzipped when the SDK compressed it). */
  body: Record<string, unknown>;
}

export interface CloudWatchRecorder {
  url: string;
  calls: RecordedCall[];
  /** The next `n` calls are answered 500 (the SDK retries them). */
  failNext(n: number): void;
  /** A real client pointed here, with static credentials and no retry delay worth waiting for. */
  client(): CloudWatchClient;
  close(): Promise<void>;
}

export async function startCloudWatchRecorder(): Promise<CloudWatchRecorder> {
  const calls: RecordedCall[] = [];
  let failing = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let raw = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
      const target = String(req.headers["x-amz-target"] ?? "");
      if (failing > 0) {
        failing--;
        res.writeHead(500, { "content-type": "application/x-amz-json-1.0" });
        res.end(
          JSON.stringify({ __type: "InternalServiceError", message: "recorder told to fail" }),
        );
        return;
      }
      calls.push({
        operation: target.slice(target.lastIndexOf(".") + 1),
        headers: req.headers,
        body: JSON.parse(raw.toString("utf8") || "{}") as Record<string, unknown>,
      });
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      res.end("{}");
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    failNext: (n) => (failing = n),
    client: () =>
      new CloudWatchClient({
        region: "us-east-1",
        endpoint: url,
        credentials: { accessKeyId: "AKIDRECORDER", secretAccessKey: "recorder-secret" },
        maxAttempts: 2,
      }),
    close: () => new Promise((done) => server.close(() => done())),
  };
}
