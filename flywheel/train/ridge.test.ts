import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../regional-gpu/pipelines/seeded-random.ts";
import { fitRidge, predict } from "./ridge.ts";

describe("ridge regression", () => {
  const random = new SeededRandom(7);
  const d = 6;
  const trueW = Float64Array.from({ length: d * 2 }, () => random.nextNormal());
  const trueB = Float64Array.of(0.5, -1.5);
  const xs = Array.from({ length: 400 }, () =>
    Float64Array.from({ length: d }, () => random.nextNormal()),
  );
  const ys = xs.map((x) => {
    const y = Float64Array.from(trueB);
    x.forEach((xi, i) => {
      y[0]! += xi * trueW[i * 2]!;
      y[1]! += xi * trueW[i * 2 + 1]!;
    });
    return y.map((v) => v + random.nextNormal() * 0.01);
  });

  it("recovers a linear map and its intercept", () => {
    const fit = fitRidge(xs, ys, 1e-3);
    fit.weights.forEach((w, i) => expect(w).toBeCloseTo(trueW[i]!, 2));
    expect(fit.bias[0]).toBeCloseTo(0.5, 2);
    expect(fit.bias[1]).toBeCloseTo(-1.5, 2);
    expect(predict(fit, xs[0]!)[0]).toBeCloseTo(ys[0]![0]!, 1);
  });

  it("shrinks the weights, never the intercept, as lambda grows", () => {
    const strong = fitRidge(xs, ys, 1e6);
    expect(Math.max(...strong.weights.map(Math.abs))).toBeLessThan(0.01);
    // With W ~ 0 the intercept is the mean target.
    const mean = ys.reduce((s, y) => s + y[1]!, 0) / ys.length;
    expect(strong.bias[1]).toBeCloseTo(mean, 2);
  });

  it("is well posed with fewer rows than inputs", () => {
    const fit = fitRidge(xs.slice(0, 2), ys.slice(0, 2), 1);
    expect(fit.weights.every(Number.isFinite)).toBe(true);
    expect(() => fitRidge([], [], 1)).toThrow();
  });
});
