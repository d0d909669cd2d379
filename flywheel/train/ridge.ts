// Ridge regression with an unpenalised intercept, in closed form: the prompt head's fit.
//   minimise  sum_i |x_i W + b - y_i|^2 + lambda |W|^2
// Solved through the normal equations [X 1]^T [X 1] + lambda diag(1..1, 0) by Cholesky; D is the
// word-vector width (100), so the system is 101 x 101 whatever the number of pairs.

export interface RidgeFit {
  /** Row-major [inputs, outputs]. */
  weights: Float64Array;
  bias: Float64Array;
}

/** Cholesky factor L (lower, row-major) of the symmetric positive definite `a` [n, n]. */
function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (sum <= 0) throw new Error("ridge: the normal equations are not positive definite");
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j]!;
      }
    }
  }
  return l;
}

/** Solves L L^T x = b for each column of `b` [n, m] in place. */
function choleskySolve(l: Float64Array, n: number, b: Float64Array, m: number): void {
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let sum = b[i * m + c]!;
      for (let k = 0; k < i; k++) sum -= l[i * n + k]! * b[k * m + c]!;
      b[i * m + c] = sum / l[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let sum = b[i * m + c]!;
      for (let k = i + 1; k < n; k++) sum -= l[k * n + i]! * b[k * m + c]!;
      b[i * m + c] = sum / l[i * n + i]!;
    }
  }
}

/** Fits `ys` [n][outputs] from `xs` [n][inputs] (lambda > 0 keeps it well posed for any n >= 1). */
export function fitRidge(
  xs: readonly Float64Array[],
  ys: readonly Float64Array[],
  lambda: number,
): RidgeFit {
  if (xs.length === 0 || xs.length !== ys.length) throw new Error("ridge: need matching rows");
  if (!(lambda > 0)) throw new Error("ridge: lambda must be positive");
  const d = xs[0]!.length;
  const m = ys[0]!.length;
  const n = d + 1;
  const a = new Float64Array(n * n);
  const b = new Float64Array(n * m);
  xs.forEach((x, row) => {
    const y = ys[row]!;
    for (let i = 0; i < n; i++) {
      const xi = i < d ? x[i]! : 1;
      for (let j = 0; j <= i; j++) a[i * n + j]! += xi * (j < d ? x[j]! : 1);
      for (let c = 0; c < m; c++) b[i * m + c]! += xi * y[c]!;
    }
  });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j]!;
    if (i < d) a[i * n + i]! += lambda;
  }
  choleskySolve(cholesky(a, n), n, b, m);
  return { weights: b.slice(0, d * m), bias: b.slice(d * m) };
}

/** x W + b for one row. */
export function predict(fit: RidgeFit, x: Float64Array): Float64Array {
  const m = fit.bias.length;
  const out = Float64Array.from(fit.bias);
  x.forEach((xi, i) => {
    for (let c = 0; c < m; c++) out[c]! += xi * fit.weights[i * m + c]!;
  });
  return out;
}
