import { z } from "zod";

export interface GeoPoint {
  lat: number;
  lon: number;
}

const EARTH_RADIUS_KM = 6371.0088;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance (haversine), in km. */
export function greatCircleKm(a: GeoPoint, b: GeoPoint): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

// Workers give request.cf.latitude/longitude as strings; headers are strings too.
const Coordinate = (min: number, max: number) =>
  z
    .union([z.string().trim().min(1), z.number()])
    .transform(Number)
    .pipe(z.number().min(min).max(max));
const GeoInput = z.object({ lat: Coordinate(-90, 90), lon: Coordinate(-180, 180) });

export const DEV_LAT_HEADER = "x-client-lat";
export const DEV_LON_HEADER = "x-client-lon";

/**
 * Where the client is: `request.cf` on Workers; in development only, the `x-client-lat/lon` headers
 * may override it (so local tests can place a client anywhere). Null when unknown.
 */
export function clientLocation(
  req: Request,
  environment: "development" | "production",
): GeoPoint | null {
  if (environment === "development") {
    const fromHeaders = GeoInput.safeParse({
      lat: req.headers.get(DEV_LAT_HEADER) ?? undefined,
      lon: req.headers.get(DEV_LON_HEADER) ?? undefined,
    });
    if (fromHeaders.success) return fromHeaders.data;
  }
  const cf = (req as Request & { cf?: { latitude?: unknown; longitude?: unknown } }).cf;
  const fromCf = GeoInput.safeParse({ lat: cf?.latitude, lon: cf?.longitude });
  return fromCf.success ? fromCf.data : null;
}

export const DEV_COLO_HEADER = "x-client-colo";
const Colo = z.string().regex(/^[A-Za-z0-9-]{1,16}$/);

/**
 * The edge location serving the request (`request.cf.colo` on Workers, e.g. "FRA"); in development
 * only, the `x-client-colo` header may override it. Null elsewhere: routing then learns no round
 * trips and goes by distance alone.
 */
export function edgeColo(req: Request, environment: "development" | "production"): string | null {
  if (environment === "development") {
    const fromHeader = Colo.safeParse(req.headers.get(DEV_COLO_HEADER) ?? undefined);
    if (fromHeader.success) return fromHeader.data;
  }
  const cf = (req as Request & { cf?: { colo?: unknown } }).cf;
  const fromCf = Colo.safeParse(cf?.colo);
  return fromCf.success ? fromCf.data : null;
}
