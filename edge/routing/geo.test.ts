import { describe, expect, it } from "vitest";
import { clientLocation, greatCircleKm } from "./geo.ts";

const LONDON = { lat: 51.5074, lon: -0.1278 };
const NEW_YORK = { lat: 40.7128, lon: -74.006 };
const SYDNEY = { lat: -33.8688, lon: 151.2093 };

describe("greatCircleKm", () => {
  it("matches known distances within 0.5%", () => {
    expect(greatCircleKm(LONDON, NEW_YORK)).toBeCloseTo(5570, -1);
    expect(Math.abs(greatCircleKm(LONDON, SYDNEY) - 16_994) / 16_994).toBeLessThan(0.005);
    expect(greatCircleKm(LONDON, LONDON)).toBe(0);
  });

  it("goes the short way across the antimeridian", () => {
    expect(greatCircleKm({ lat: 0, lon: 179 }, { lat: 0, lon: -179 })).toBeCloseTo(222.4, 0);
  });
});

describe("clientLocation", () => {
  const withCf = (cf: unknown, headers: Record<string, string> = {}) => {
    const req = new Request("http://edge.test/", { headers });
    Object.defineProperty(req, "cf", { value: cf });
    return req;
  };

  it("reads request.cf (strings on Workers)", () => {
    expect(clientLocation(withCf({ latitude: "48.85", longitude: "2.35" }), "production")).toEqual({
      lat: 48.85,
      lon: 2.35,
    });
  });

  it("lets x-client-lat/lon override in development only", () => {
    const req = withCf(
      { latitude: "48.85", longitude: "2.35" },
      { "x-client-lat": "35.68", "x-client-lon": "139.69" },
    );
    expect(clientLocation(req, "development")).toEqual({ lat: 35.68, lon: 139.69 });
    expect(clientLocation(req, "production")).toEqual({ lat: 48.85, lon: 2.35 });
  });

  it("is null when unknown or out of range", () => {
    expect(clientLocation(new Request("http://edge.test/"), "development")).toBeNull();
    expect(clientLocation(withCf({ latitude: "91", longitude: "0" }), "production")).toBeNull();
    const bad = new Request("http://edge.test/", {
      headers: { "x-client-lat": "north", "x-client-lon": "1" },
    });
    expect(clientLocation(bad, "development")).toBeNull();
  });
});
