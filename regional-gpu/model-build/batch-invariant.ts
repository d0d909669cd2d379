import type { GraphBuilder } from "./onnx-graph.ts";

// Per-image maths whose float results do not depend on how many images share the batch. ONNX Runtime's
// CPU kernels pick different summation orders by shape: a [1, n] x [n, m] MatMul takes MLAS's M=1
// kernel, a ReduceSum over the middle axis of [2, r, c] a ones-vector GEMM but of [1, r, c] a row-by-row
// loop; and the transpose optimizer moves reduced axes around. Left alone, that flips a few output bytes
// between a request run alone and the same request batched. Two shapes are order-stable:
//  - a ReduceSum over the last axis: every row is summed on its own by the same kernel (rows padded to
//    a multiple of 16 floats so each starts on the same SIMD alignment);
//  - a MatMul whose operands both carry the batch dimension: one GEMM per image.

const ROW_ALIGN = 16;

/** `x` [B, rows] times the constant `matrix` [rows, cols] -> [B, cols]. */
export function invariantMatMul(
  g: GraphBuilder,
  x: string,
  name: string,
  matrix: Float32Array,
  rows: number,
  cols: number,
): string {
  if (matrix.length !== rows * cols) throw new Error(`${name}: expected ${rows}x${cols} values`);
  const paddedRows = Math.ceil(rows / ROW_ALIGN) * ROW_ALIGN;
  // A single kept column would let the runtime treat the reduction as a full one: use at least two.
  const paddedCols = Math.max(cols, 2);
  const transposed = new Float32Array(paddedCols * paddedRows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) transposed[c * paddedRows + r] = matrix[r * cols + c]!;
  }
  let input = x;
  if (paddedRows !== rows) {
    input = g.op("Pad", [x, g.ints(`${name}_pads`, [0, 0, 0, paddedRows - rows])]);
  }
  const rowsOfX = g.op("Unsqueeze", [input, g.ints(`${name}_axis`, [1])]);
  const products = g.op("Mul", [rowsOfX, g.constant(name, transposed, [paddedCols, paddedRows])]);
  const sum = g.op("ReduceSum", [products, g.ints(`${name}_last`, [-1])], { keepdims: 0 });
  if (paddedCols === cols) return sum;
  const slice = [
    g.ints(`${name}_start`, [0]),
    g.ints(`${name}_end`, [cols]),
    g.ints(`${name}_cols`, [1]),
  ];
  return g.op("Slice", [sum, ...slice]);
}

/** Sum of squares of each row of `x` [B, n] -> [B, 1]. */
export function invariantSquaredNorm(g: GraphBuilder, x: string, name: string, n: number): string {
  return invariantMatMul(g, g.op("Mul", [x, x]), name, new Float32Array(n).fill(1), n, 1);
}
