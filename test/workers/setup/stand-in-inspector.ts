import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { RegionStandIn } from "../../../edge/testing/region-stand-in.ts";

// The region stand-ins live in Node; tests inside workerd read what each one saw (jobs, object
// fetches, refused signatures) from this loopback endpoint: GET /regions/<name>.

export interface StandInInspector {
  readonly url: string;
  close(): Promise<void>;
}

export async function startStandInInspector(
  standIns: ReadonlyMap<string, RegionStandIn>,
): Promise<StandInInspector> {
  const server = createServer((req, res) => {
    const name = /^\/regions\/([a-z0-9-]+)$/.exec(req.url ?? "")?.[1];
    const standIn = name === undefined ? undefined : standIns.get(name);
    if (req.method !== "GET" || !standIn) return void res.writeHead(404).end();
    const { jobs, objectFetches, unsigned, cancels } = standIn;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ jobs, objectFetches, unsigned, cancels }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
