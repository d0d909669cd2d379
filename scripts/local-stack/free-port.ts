import { createServer } from "node:net";

/** A port the OS says is free now (a tiny race remains; fine for local stacks and tests). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** `count` ports: consecutive from `base`, or free ones when `base` is 0. */
export async function portsFrom(base: number, count: number): Promise<number[]> {
  if (base !== 0) return Array.from({ length: count }, (_, i) => base + i);
  const ports: number[] = [];
  while (ports.length < count) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  return ports;
}
