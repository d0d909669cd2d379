import fc from "fast-check";

// Random and adversarial inputs for the public routes. Nothing here can name a host other than
// loopback: webhook URLs come from a fixed list, so a fuzzed generation never calls out.

const printable = fc.string({ unit: "grapheme-ascii", maxLength: 80 });
const anyText = fc.string({ unit: "grapheme", maxLength: 200 });

/** Strings that have broken parsers before: encodings, injections, huge and odd numbers. */
export const nasty = fc.constantFrom(
  "",
  " ",
  "%",
  "%zz",
  "%E0%A4%A",
  "..%2F..%2Fetc%2Fpasswd",
  "../../etc/passwd",
  "\u0000",
  "\u202e\u200b\ufeff",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "${7*7}",
  "__proto__",
  "constructor",
  "NaN",
  "-0",
  "1e309",
  "9".repeat(400),
  "🙂".repeat(50),
  "a".repeat(5000),
);

const text = fc.oneof(printable, anyText, nasty);
const numberish = fc.oneof(
  fc.integer(),
  fc.integer({ min: 0, max: 4096 }),
  fc.double(),
  fc.constantFrom(0, -1, 64, 2 ** 53, Number.MAX_VALUE),
  text,
  fc.constant(null),
);

const id = (prefix: string) =>
  fc.oneof(
    fc.stringMatching(new RegExp(`^${prefix}_[0-9a-z]{26}$`)),
    text,
    fc.constant(`${prefix}_${"0".repeat(26)}`),
  );

/** Bodies shaped like a CreateGenerationRequest, with every field free to be wrong. */
const generationLike = fc.record(
  {
    prompt: fc.oneof(text, fc.constant("a lighthouse at dusk"), numberish),
    negative_prompt: fc.oneof(text, numberish),
    model: fc.oneof(text, fc.constantFrom("cppn-glove", "cppn-glove@2026-11-27.1", "nope@1")),
    width: numberish,
    height: numberish,
    seed: numberish,
    priority: fc.oneof(text, fc.constantFrom("fast", "standard", "relax")),
    project: id("proj"),
    style: fc.oneof(fc.record({ reference: id("gen"), strength: numberish }), text),
    webhook: fc.oneof(
      fc.record({
        url: fc.constantFrom("http://127.0.0.1:9/hook", "ftp://x", "not a url", ""),
        events: fc.array(text, { maxLength: 3 }),
      }),
      text,
    ),
    metadata: fc.oneof(fc.dictionary(text, fc.oneof(text, numberish), { maxKeys: 25 }), text),
    cache: fc.oneof(fc.boolean(), text),
  },
  { requiredKeys: [] },
);

/** Bodies shaped like a SearchRequest or an UpscaleRequest, every field free to be wrong. */
const searchLike = fc.record(
  {
    generation: id("gen"),
    text: fc.oneof(text, fc.constant("a harbour at dusk")),
    embedding: fc.oneof(
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 128, maxLength: 128 }),
      fc.array(numberish, { maxLength: 130 }),
      fc.constant(new Array<number>(128).fill(0)),
    ),
    project: id("proj"),
    model: fc.oneof(text, fc.constantFrom("cppn-glove", "cppn-glove@2026-12-01.1")),
    from: fc.oneof(text, fc.constantFrom("2026-01-01T00:00:00Z", "yesterday")),
    to: fc.oneof(text, fc.constant("2030-01-01T00:00:00+02:00")),
    limit: numberish,
    cursor: fc.oneof(text, fc.constant("eyJkIjowLCJpIjoiZ2VuIiwicSI6IngifQ")),
    factor: fc.oneof(numberish, fc.constantFrom(2, 4, 3)),
  },
  { requiredKeys: [] },
);

/** A request body as sent on the wire. */
export const body: fc.Arbitrary<string | undefined> = fc.oneof(
  fc
    .record(
      { prompt: fc.constantFrom("a lighthouse at dusk", "harbour at night"), seed: fc.nat() },
      { requiredKeys: ["prompt"] },
    )
    .map((b) => JSON.stringify(b)),
  fc.constant(undefined),
  generationLike.map((b) => JSON.stringify(b)),
  searchLike.map((b) => JSON.stringify(b)),
  fc
    .oneof(
      fc.record({ text: fc.constantFrom("a harbour at dusk", "forest"), limit: fc.nat(60) }),
      fc.record({
        embedding: fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), {
          minLength: 128,
          maxLength: 128,
        }),
      }),
    )
    .map((b) => JSON.stringify(b)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  text,
  fc.constantFrom("{", "[]", "null", '{"prompt":', '{"__proto__":{"x":1}}', "{}".repeat(40)),
);

/**
 * Header values a client could send; never "wait" preferences that would hold a request. Half
 * carry the owner's key and a JSON content type, so requests also get past authentication.
 */
export const headers = (ownerKey: string) =>
  fc.oneof(
    randomHeaders(ownerKey),
    randomHeaders(ownerKey).map((h) => ({
      ...h,
      authorization: `Bearer ${ownerKey}`,
      "content-type": "application/json",
    })),
  );

const randomHeaders = (ownerKey: string) =>
  fc.record(
    {
      authorization: fc.oneof(
        fc.constant(`Bearer ${ownerKey}`),
        printable,
        printable.map((s) => `Bearer ${s}`),
        fc.constantFrom(
          "Bearer",
          "Bearer ",
          "Basic abc",
          `bearer ${ownerKey}`,
          `Bearer ${ownerKey}x`,
        ),
      ),
      "content-type": fc.oneof(
        printable,
        fc.constantFrom("application/json", "text/plain", "application/json; charset=latin1"),
      ),
      "idempotency-key": printable,
      prefer: fc.oneof(
        printable.filter((s) => !/wait/i.test(s)),
        fc.constantFrom("wait=0", "respond-async"),
      ),
      "cache-control": fc.oneof(printable, fc.constantFrom("no-cache", "no-store", "max-age=0")),
      "last-event-id": printable,
      "x-request-id": printable,
      range: fc.oneof(
        printable,
        fc.constantFrom("bytes=0-0", "bytes=-1", "bytes=5-2", "bytes=0-99999999"),
      ),
      "if-none-match": printable,
      origin: printable,
      "cf-connecting-ip": printable,
    },
    { requiredKeys: [] },
  );

/** A query string of random pairs, encoded or raw. */
export const query = fc.oneof(
  fc.constant(""),
  fc
    .dictionary(
      fc.oneof(
        printable,
        fc.constantFrom(
          "limit",
          "cursor",
          "status",
          "project",
          "exp",
          "sig",
          "q",
          "model",
          "from",
          "to",
        ),
      ),
      fc.oneof(text, numberish.map(String)),
      { maxKeys: 6 },
    )
    .map((d) => "?" + new URLSearchParams(d as Record<string, string>).toString()),
  nasty.map((s) => `?${s}`),
);

/** A path segment: well-formed ids, percent-encoded garbage, and raw adversarial text. */
export const segment = (prefix: string) =>
  fc.oneof(
    id(prefix).map(encodeURIComponent),
    nasty.filter((s) => !/[\u0000]/.test(s) && !s.includes("?") && !s.includes("#")),
  );
