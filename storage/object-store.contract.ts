import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  InvalidObjectKeyError,
  RangeNotSatisfiableError,
  type ObjectStore,
} from "./object-store.ts";

// The behaviour every ObjectStore must share; each implementation's test file runs this suite (on
// Node, and in workerd for R2, so no Node-only APIs beyond node:crypto's MD5).

const bytesOf = (text: string) => new TextEncoder().encode(text);
const md5 = (b: Uint8Array) => `"${createHash("md5").update(b).digest("hex")}"`;

export function describeObjectStoreContract(name: string, store: () => ObjectStore): void {
  describe(`${name} (ObjectStore contract)`, () => {
    const body = bytesOf("0123456789abcdef");

    it("round-trips bytes, content type, lowercased metadata and an MD5 etag", async () => {
      const s = store();
      const info = await s.put("ab/cd.png", body, {
        contentType: "image/png",
        metadata: { Sha256: "f00d", width: "64" },
      });
      expect(info).toEqual({
        key: "ab/cd.png",
        size: 16,
        etag: md5(body),
        contentType: "image/png",
        metadata: { sha256: "f00d", width: "64" },
      });
      expect(await s.head("ab/cd.png")).toEqual(info);
      const got = await s.get("ab/cd.png");
      expect(got).toMatchObject(info);
      expect(got?.range).toBeUndefined();
      expect(Array.from(got!.body)).toEqual(Array.from(body));
    });

    it("answers null for missing objects and deletes idempotently", async () => {
      const s = store();
      expect(await s.head("missing.png")).toBeNull();
      expect(await s.get("missing.png")).toBeNull();
      await s.put("gone.png", body, { contentType: "image/png" });
      await s.delete("gone.png");
      await s.delete("gone.png");
      expect(await s.head("gone.png")).toBeNull();
      expect(await s.get("gone.png")).toBeNull();
    });

    it("overwrites in place", async () => {
      const s = store();
      await s.put("over.txt", body, { contentType: "text/plain" });
      const next = bytesOf("second");
      await s.put("over.txt", next, { contentType: "application/octet-stream" });
      const got = await s.get("over.txt");
      expect(got).toMatchObject({
        size: 6,
        etag: md5(next),
        contentType: "application/octet-stream",
      });
      expect(new TextDecoder().decode(got!.body)).toBe("second");
    });

    it("reads byte ranges, clamped to the end, with the full size reported", async () => {
      const s = store();
      await s.put("range.bin", body, { contentType: "application/octet-stream" });
      const mid = await s.get("range.bin", { range: { offset: 2, length: 3 } });
      expect(new TextDecoder().decode(mid!.body)).toBe("234");
      expect(mid).toMatchObject({ size: 16, range: { offset: 2, length: 3 }, etag: md5(body) });
      const tail = await s.get("range.bin", { range: { offset: 10 } });
      expect(new TextDecoder().decode(tail!.body)).toBe("abcdef");
      expect(tail?.range).toEqual({ offset: 10, length: 6 });
      const over = await s.get("range.bin", { range: { offset: 14, length: 100 } });
      expect(new TextDecoder().decode(over!.body)).toBe("ef");
      await expect(s.get("range.bin", { range: { offset: 16 } })).rejects.toBeInstanceOf(
        RangeNotSatisfiableError,
      );
      expect(await s.get("nope.bin", { range: { offset: 0, length: 1 } })).toBeNull();
    });

    it("refuses unsafe keys before any I/O", async () => {
      const s = store();
      for (const key of ["../etc/passwd", "/abs", "a//b", "a/../b", "", ".hidden", "a b"]) {
        await expect(s.put(key, body, { contentType: "text/plain" })).rejects.toBeInstanceOf(
          InvalidObjectKeyError,
        );
        await expect(s.get(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      }
    });

    it("keeps concurrent writers of one key consistent", async () => {
      const s = store();
      const versions = Array.from({ length: 8 }, (_, i) => bytesOf(`version-${i}`.repeat(i + 1)));
      await Promise.all(versions.map((v) => s.put("race.txt", v, { contentType: "text/plain" })));
      const got = await s.get("race.txt");
      expect(got).not.toBeNull();
      expect(got!.etag).toBe(md5(got!.body));
      expect(got!.size).toBe(got!.body.byteLength);
    });
  });
}
