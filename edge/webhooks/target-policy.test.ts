import { describe, expect, it } from "vitest";
import { isPublicAddress, refusedTarget } from "./target-policy.ts";

describe("refusedTarget", () => {
  it("lets development call anything over http(s), loopback included", () => {
    expect(refusedTarget("http://127.0.0.1:9999/hook", "development")).toBeNull();
    expect(refusedTarget("ftp://example.com/", "development")).not.toBeNull();
  });

  it("in production, allows public https hosts only", () => {
    expect(refusedTarget("https://hooks.example.com/genart", "production")).toBeNull();
    expect(refusedTarget("https://8.8.8.8/x", "production")).toBeNull();
    for (const url of [
      "http://hooks.example.com/genart",
      "https://127.0.0.1/",
      "https://0x7f.1/",
      "https://2130706433/",
      "https://10.0.0.8/",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/",
      "https://[::ffff:7f00:1]/",
      "https://[fd00::1]/",
      "https://localhost/",
      "https://api.localhost/",
      "https://db.internal/",
      "https://printer.local/",
      "https://metadata/",
      "https://user:pw@hooks.example.com/",
    ]) {
      expect(refusedTarget(url, "production"), url).not.toBeNull();
    }
  });
});

describe("isPublicAddress", () => {
  it.each([
    ["8.8.8.8", true],
    ["1.1.1.1", true],
    ["2606:4700:4700::1111", true],
    ["::ffff:8.8.8.8", true],
    ["127.0.0.1", false],
    ["0.0.0.0", false],
    ["10.1.2.3", false],
    ["172.16.5.4", false],
    ["192.168.1.1", false],
    ["100.64.0.1", false],
    ["169.254.169.254", false],
    ["224.0.0.1", false],
    ["255.255.255.255", false],
    ["::", false],
    ["::1", false],
    ["::ffff:127.0.0.1", false],
    ["64:ff9b::a00:1", false],
    ["fe80::1", false],
    ["fc00::1", false],
    ["ff02::1", false],
    ["2001:db8::1", false],
    // Missing from the hand-written table this replaced: Teredo and site-local.
    ["2001::1", false],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", false],
    ["fec0::1", false],
    ["fedc:1::1", false],
    ["2002:0808:0808::1", true],
    ["2002:0a00:0001::1", false],
    ["64:ff9b::808:808", true],
    ["100::1", false],
    ["192.0.0.8", false],
    ["198.18.0.1", false],
    ["240.0.0.1", false],
    ["not an address", false],
  ])("%s -> %s", (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});
