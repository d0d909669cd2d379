import { parentPort, workerData } from "node:worker_threads";
import { inputsFrom, type CliOptions } from "./options.ts";
import { policiesFor, runOne, workloads } from "./run.ts";

// One worker thread of `npm run simulate`: runs the (workload, policy) pairs it is sent, each a
// deterministic run of its own, and posts back their summaries.

interface Task {
  workload: string;
  policy: string;
}

const options = workerData as CliOptions;
const inputs = inputsFrom(options);
const specs = workloads(options);
const policies = policiesFor(inputs);

parentPort!.on("message", (task: Task | null) => {
  if (task === null) {
    parentPort!.close();
    return;
  }
  const workload = specs.find((w) => w.name === task.workload)!;
  const policy = policies.find((p) => p.name === task.policy)!;
  runOne(workload, policy, inputs, options.quick).then(
    (summary) => parentPort!.postMessage({ ok: true, summary }),
    (err: unknown) =>
      parentPort!.postMessage({ ok: false, error: String((err as Error)?.stack ?? err) }),
  );
});
