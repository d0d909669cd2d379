import type { RegionConfig } from "../../../contracts/region-protocol.ts";

// Where the simulated fleet runs and where its clients are. Ten AWS regions with GPU capacity, and
// metro areas weighted by their internet population (millions of users, rounded; mainland China
// left out, as the platform is not served there), each with its UTC offset for the daily cycle.

export interface SimRegionSite {
  name: string;
  awsRegion: string;
  lat: number;
  lon: number;
}

export const REGIONS: readonly SimRegionSite[] = [
  { name: "us-east", awsRegion: "us-east-1", lat: 39.0, lon: -77.5 },
  { name: "us-west", awsRegion: "us-west-2", lat: 45.8, lon: -119.7 },
  { name: "ca-central", awsRegion: "ca-central-1", lat: 45.5, lon: -73.6 },
  { name: "sa-east", awsRegion: "sa-east-1", lat: -23.5, lon: -46.6 },
  { name: "eu-west", awsRegion: "eu-west-1", lat: 53.3, lon: -6.3 },
  { name: "eu-central", awsRegion: "eu-central-1", lat: 50.1, lon: 8.7 },
  { name: "ap-south", awsRegion: "ap-south-1", lat: 19.1, lon: 72.9 },
  { name: "ap-southeast", awsRegion: "ap-southeast-1", lat: 1.3, lon: 103.8 },
  { name: "ap-northeast", awsRegion: "ap-northeast-1", lat: 35.7, lon: 139.7 },
  { name: "au-southeast", awsRegion: "ap-southeast-2", lat: -33.9, lon: 151.2 },
];

/** The regions as the edge is configured with them (REGIONS). */
export const regionConfigs = (sites: readonly SimRegionSite[] = REGIONS): RegionConfig[] =>
  sites.map((s) => ({
    name: s.name,
    endpoint: `https://${s.name}.regions.sim`,
    lat: s.lat,
    lon: s.lon,
  }));

export interface Metro {
  name: string;
  lat: number;
  lon: number;
  /** Internet users, millions (relative weight of its traffic). */
  users: number;
  utcOffsetHours: number;
}

export const METROS: readonly Metro[] = [
  { name: "New York", lat: 40.7, lon: -74.0, users: 25, utcOffsetHours: -5 },
  { name: "Los Angeles", lat: 34.1, lon: -118.2, users: 20, utcOffsetHours: -8 },
  { name: "Chicago", lat: 41.9, lon: -87.6, users: 12, utcOffsetHours: -6 },
  { name: "Dallas", lat: 32.8, lon: -96.8, users: 10, utcOffsetHours: -6 },
  { name: "Atlanta", lat: 33.7, lon: -84.4, users: 8, utcOffsetHours: -5 },
  { name: "Miami", lat: 25.8, lon: -80.2, users: 7, utcOffsetHours: -5 },
  { name: "Seattle", lat: 47.6, lon: -122.3, users: 6, utcOffsetHours: -8 },
  { name: "Toronto", lat: 43.7, lon: -79.4, users: 9, utcOffsetHours: -5 },
  { name: "Montreal", lat: 45.5, lon: -73.6, users: 4, utcOffsetHours: -5 },
  { name: "Vancouver", lat: 49.3, lon: -123.1, users: 3, utcOffsetHours: -8 },
  { name: "Mexico City", lat: 19.4, lon: -99.1, users: 25, utcOffsetHours: -6 },
  { name: "Sao Paulo", lat: -23.5, lon: -46.6, users: 25, utcOffsetHours: -3 },
  { name: "Rio de Janeiro", lat: -22.9, lon: -43.2, users: 10, utcOffsetHours: -3 },
  { name: "Buenos Aires", lat: -34.6, lon: -58.4, users: 14, utcOffsetHours: -3 },
  { name: "Bogota", lat: 4.7, lon: -74.1, users: 12, utcOffsetHours: -5 },
  { name: "Lima", lat: -12.0, lon: -77.0, users: 9, utcOffsetHours: -5 },
  { name: "Santiago", lat: -33.4, lon: -70.7, users: 7, utcOffsetHours: -4 },
  { name: "London", lat: 51.5, lon: -0.1, users: 20, utcOffsetHours: 0 },
  { name: "Paris", lat: 48.9, lon: 2.4, users: 18, utcOffsetHours: 1 },
  { name: "Berlin", lat: 52.5, lon: 13.4, users: 14, utcOffsetHours: 1 },
  { name: "Madrid", lat: 40.4, lon: -3.7, users: 12, utcOffsetHours: 1 },
  { name: "Rome", lat: 41.9, lon: 12.5, users: 11, utcOffsetHours: 1 },
  { name: "Warsaw", lat: 52.2, lon: 21.0, users: 9, utcOffsetHours: 1 },
  { name: "Amsterdam", lat: 52.4, lon: 4.9, users: 7, utcOffsetHours: 1 },
  { name: "Stockholm", lat: 59.3, lon: 18.1, users: 5, utcOffsetHours: 1 },
  { name: "Istanbul", lat: 41.0, lon: 29.0, users: 20, utcOffsetHours: 3 },
  { name: "Moscow", lat: 55.8, lon: 37.6, users: 25, utcOffsetHours: 3 },
  { name: "Lagos", lat: 6.5, lon: 3.4, users: 30, utcOffsetHours: 1 },
  { name: "Cairo", lat: 30.0, lon: 31.2, users: 25, utcOffsetHours: 2 },
  { name: "Johannesburg", lat: -26.2, lon: 28.0, users: 12, utcOffsetHours: 2 },
  { name: "Nairobi", lat: -1.3, lon: 36.8, users: 10, utcOffsetHours: 3 },
  { name: "Riyadh", lat: 24.7, lon: 46.7, users: 10, utcOffsetHours: 3 },
  { name: "Dubai", lat: 25.2, lon: 55.3, users: 8, utcOffsetHours: 4 },
  { name: "Tehran", lat: 35.7, lon: 51.4, users: 20, utcOffsetHours: 3.5 },
  { name: "Karachi", lat: 24.9, lon: 67.0, users: 20, utcOffsetHours: 5 },
  { name: "Delhi", lat: 28.6, lon: 77.2, users: 50, utcOffsetHours: 5.5 },
  { name: "Mumbai", lat: 19.1, lon: 72.9, users: 45, utcOffsetHours: 5.5 },
  { name: "Bangalore", lat: 13.0, lon: 77.6, users: 30, utcOffsetHours: 5.5 },
  { name: "Dhaka", lat: 23.8, lon: 90.4, users: 25, utcOffsetHours: 6 },
  { name: "Bangkok", lat: 13.8, lon: 100.5, users: 20, utcOffsetHours: 7 },
  { name: "Ho Chi Minh City", lat: 10.8, lon: 106.7, users: 20, utcOffsetHours: 7 },
  { name: "Jakarta", lat: -6.2, lon: 106.8, users: 45, utcOffsetHours: 7 },
  { name: "Singapore", lat: 1.3, lon: 103.8, users: 5, utcOffsetHours: 8 },
  { name: "Manila", lat: 14.6, lon: 121.0, users: 25, utcOffsetHours: 8 },
  { name: "Hong Kong", lat: 22.3, lon: 114.2, users: 7, utcOffsetHours: 8 },
  { name: "Taipei", lat: 25.0, lon: 121.5, users: 10, utcOffsetHours: 8 },
  { name: "Seoul", lat: 37.6, lon: 127.0, users: 25, utcOffsetHours: 9 },
  { name: "Tokyo", lat: 35.7, lon: 139.7, users: 35, utcOffsetHours: 9 },
  { name: "Osaka", lat: 34.7, lon: 135.5, users: 15, utcOffsetHours: 9 },
  { name: "Sydney", lat: -33.9, lon: 151.2, users: 6, utcOffsetHours: 10 },
  { name: "Melbourne", lat: -37.8, lon: 145.0, users: 5, utcOffsetHours: 10 },
  { name: "Auckland", lat: -36.8, lon: 174.8, users: 3, utcOffsetHours: 12 },
];
