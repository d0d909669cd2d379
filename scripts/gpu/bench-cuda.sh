#!/usr/bin/env bash
# Runs the regional-node benchmarks on a CUDA host: installs onnxruntime-node's CUDA 12 execution
# provider (not bundled on npm; its install script fetches it from NuGet), checks that ONNX Runtime
# really runs the generator and the output-safety classifiers on the GPU, then runs
# `npm run bench:region` (served with and without moderation against raw) and
# `npm run bench:moderation` (the classifiers alone, ONNX on CUDA against nsfwjs on tfjs) with
# ORT_EP=cuda. See docs/gpu.md.
#
#   bash scripts/gpu/bench-cuda.sh [--side 512] [--clients 16] [any other bench:region flags]
#
# Needs: an NVIDIA driver (nvidia-smi), CUDA 12 and cuDNN 9 runtime libraries on the loader path,
# Node >= 22 and a checkout with `npm ci` done (the repo's .npmrc skips the CUDA download; this script
# asks for it explicitly; bench:moderation's tfjs baseline is a dev dependency). Writes
# bench-results/region-cuda.json and bench-results/moderation-cuda.json.
set -euo pipefail

cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"

fail() {
  echo "bench-cuda: $*" >&2
  exit 1
}

command -v nvidia-smi >/dev/null || fail "nvidia-smi not found: not a CUDA host (or no driver)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
[ -d node_modules/onnxruntime-node ] || fail "run npm ci first"

ort_dir=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
if [ ! -f "$ort_dir/libonnxruntime_providers_cuda.so" ]; then
  echo "bench-cuda: installing the CUDA 12 execution provider for onnxruntime-node"
  # The package's own postinstall, run directly: npm may hold back unapproved install scripts, and
  # the environment variable outranks .npmrc's onnxruntime-node-install=skip. It downloads
  # Microsoft.ML.OnnxRuntime.Gpu.Linux from NuGet (matching the installed version) and copies the
  # CUDA and TensorRT provider libraries beside libonnxruntime.so.
  ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js
fi
[ -f "$ort_dir/libonnxruntime_providers_cuda.so" ] ||
  fail "the CUDA provider library is still missing from $ort_dir"

# A missing libcudart/libcublas/libcudnn shows up here, with ONNX Runtime's own message. The
# classifiers are converted from nsfwjs's bundled weights first if .data/classifiers lacks them.
node --input-type=module -e '
  import { join } from "node:path";
  import { createLogger } from "./regional-gpu/log.ts";
  import { ensureClassifierModel } from "./regional-gpu/model-build/classifiers/build-classifiers.ts";
  import { OrtSessionFactory } from "./regional-gpu/models/session-factory.ts";
  import { referenceModel } from "./regional-gpu/testing/reference-model.ts";
  const model = await referenceModel();
  const files = {
    [model.ref]: join(model.modelsDir, model.manifest.name, model.manifest.version, model.manifest.file),
  };
  for (const name of ["MobileNetV2Mid", "InceptionV3"]) {
    const built = await ensureClassifierModel(name);
    files[built.manifest.classifier] = built.path;
  }
  const factory = new OrtSessionFactory({ choice: "cuda", logger: createLogger() });
  for (const [name, file] of Object.entries(files)) {
    const { session, executionProvider } = await factory.create(file);
    console.log(`bench-cuda: ${name} opens on ${executionProvider}`);
    await session.release();
  }
' || fail "ONNX Runtime cannot use CUDA here (see the error above: CUDA 12 / cuDNN 9 libraries?)"

ORT_EP=cuda npm run bench:region -- --out bench-results/region-cuda.json "$@"
ORT_EP=cuda npm run bench:moderation -- --ep cuda --out bench-results/moderation-cuda.json
