import type { InferenceSession } from "onnxruntime-node";
import type { ModelManifest, TensorSpec } from "../../contracts/model-manifest.ts";
import { ModelSignatureError } from "./model-errors.ts";

// A model is refused at load when its graph's inputs or outputs are not the ones its manifest
// declares (names, element types, ranks, fixed dimensions): better one clear error at load than a
// cryptic one on every job. Symbolic dimensions may be named differently.

type Graph = Pick<InferenceSession, "inputNames" | "outputNames"> &
  Partial<Pick<InferenceSession, "inputMetadata" | "outputMetadata">>;

const shapeText = (shape: readonly (number | string)[]) => `[${shape.join(", ")}]`;

function compare(
  kind: "input" | "output",
  declared: readonly TensorSpec[],
  names: readonly string[],
  metadata: readonly InferenceSession.ValueMetadata[] | undefined,
): string[] {
  const problems: string[] = [];
  const byName = new Map((metadata ?? []).map((m) => [m.name, m]));
  for (const spec of declared) {
    if (!names.includes(spec.name)) {
      const has = names.length > 0 ? names.map((n) => `"${n}"`).join(", ") : "none";
      problems.push(
        `${kind} "${spec.name}" is declared but the graph has no such ${kind} (it has ${has})`,
      );
      continue;
    }
    const meta = byName.get(spec.name);
    if (!meta) continue;
    if (!meta.isTensor) {
      problems.push(`${kind} "${spec.name}" is not a tensor in the graph`);
      continue;
    }
    if (meta.type !== spec.type) {
      problems.push(
        `${kind} "${spec.name}" is ${meta.type} in the graph, ${spec.type} in the manifest`,
      );
    }
    // An empty graph shape means "unknown": nothing to compare.
    if (meta.shape.length === 0) continue;
    const fixedDiffer = meta.shape.some((d, i) => {
      const want = spec.shape[i];
      return typeof d === "number" && typeof want === "number" && d !== want;
    });
    if (meta.shape.length !== spec.shape.length || fixedDiffer) {
      problems.push(
        `${kind} "${spec.name}" has shape ${shapeText(meta.shape)} in the graph, ${shapeText(spec.shape)} in the manifest`,
      );
    }
  }
  const declaredNames = new Set(declared.map((s) => s.name));
  for (const name of names) {
    // Extra outputs are harmless; an extra input would have to be fed and never is.
    if (kind === "input" && !declaredNames.has(name)) {
      problems.push(`graph input "${name}" is not in the manifest`);
    }
  }
  return problems;
}

/** Every way the session's graph differs from the manifest; empty when it matches. */
export function signatureProblems(manifest: ModelManifest, graph: Graph): string[] {
  return [
    ...compare("input", manifest.inputs, graph.inputNames, graph.inputMetadata),
    ...compare("output", manifest.outputs, graph.outputNames, graph.outputMetadata),
  ];
}

/** Throws ModelSignatureError listing every difference. */
export function checkSignature(ref: string, manifest: ModelManifest, graph: Graph): void {
  const problems = signatureProblems(manifest, graph);
  if (problems.length > 0) throw new ModelSignatureError(ref, problems);
}
