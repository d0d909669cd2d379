import { describe, expect, it } from "vitest";
import { MAX_WAIT_S, preferredWaitSeconds } from "./prefer-wait.ts";

describe("preferredWaitSeconds", () => {
  it.each([
    [undefined, 0],
    ["", 0],
    ["wait", MAX_WAIT_S],
    ["wait=5", 5],
    ["Wait = 7", 7],
    ['wait="9"', 9],
    ["wait=600", MAX_WAIT_S],
    ["respond-async, wait=12", 12],
    ["wait=soon", 0],
    ["return=minimal", 0],
  ])("%j -> %i", (header, seconds) => {
    expect(preferredWaitSeconds(header)).toBe(seconds);
  });
});
