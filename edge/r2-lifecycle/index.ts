export {
  LifecycleConfig,
  LifecycleEnvironment,
  LifecycleRule,
  toR2LifecyclePolicy,
  toR2Rule,
  wranglerLifecycleCommand,
} from "./r2-lifecycle.ts";
