// prom-client's default metrics one by one (collectDefaultMetrics takes one prefix for all of them): lib/metrics/*.js, no declarations of their own.
declare module 'prom-client/lib/metrics/*.js' {
  import type { Registry } from 'prom-client';
  const register: (registry: Registry, config: { prefix?: string; eventLoopMonitoringPrecision?: number }) => void;
  export default register;
}
