import type { GeoPoint } from "../routing/geo.ts";

// Simulated geography for routing tests: regions on six continents, and clients in cities each
// region is the nearest to (with the IATA code of the colo that would serve them).

export const WORLD_REGIONS = [
  { name: "us-east", lat: 39.04, lon: -77.49 },
  { name: "us-west", lat: 45.84, lon: -119.7 },
  { name: "sa-east", lat: -23.55, lon: -46.63 },
  { name: "eu-west", lat: 53.35, lon: -6.26 },
  { name: "af-south", lat: -33.92, lon: 18.42 },
  { name: "ap-south", lat: 19.08, lon: 72.88 },
  { name: "ap-northeast", lat: 35.68, lon: 139.69 },
  { name: "au-east", lat: -33.87, lon: 151.21 },
] as const;

export interface WorldClient {
  city: string;
  colo: string;
  at: GeoPoint;
  nearest: (typeof WORLD_REGIONS)[number]["name"];
}

export const WORLD_CLIENTS: WorldClient[] = [
  { city: "Paris", colo: "CDG", at: { lat: 48.85, lon: 2.35 }, nearest: "eu-west" },
  { city: "Chicago", colo: "ORD", at: { lat: 41.88, lon: -87.63 }, nearest: "us-east" },
  { city: "Seattle", colo: "SEA", at: { lat: 47.61, lon: -122.33 }, nearest: "us-west" },
  { city: "Buenos Aires", colo: "EZE", at: { lat: -34.6, lon: -58.38 }, nearest: "sa-east" },
  { city: "Johannesburg", colo: "JNB", at: { lat: -26.2, lon: 28.05 }, nearest: "af-south" },
  { city: "Delhi", colo: "DEL", at: { lat: 28.61, lon: 77.21 }, nearest: "ap-south" },
  { city: "Osaka", colo: "KIX", at: { lat: 34.69, lon: 135.5 }, nearest: "ap-northeast" },
  { city: "Melbourne", colo: "MEL", at: { lat: -37.81, lon: 144.96 }, nearest: "au-east" },
];
