/**
 * The process and Node runtime metrics, from prom-client's default metrics
 * taken one by one: `process_*` under their standard names, unprefixed, as
 * every Prometheus client library exports them (dashboards and alerts
 * written for any process work as they are), and the Node runtime's under
 * `logship_nodejs_*`. Left out: prom-client's `nodejs_active_*_total`
 * (gauges named like counters; the per-type gauges say the same) and
 * `nodejs_version_info` (logship_build_info has node_version).
 */
import type { Registry } from 'prom-client';
import eventLoopLag from 'prom-client/lib/metrics/eventLoopLag.js';
import gc from 'prom-client/lib/metrics/gc.js';
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed.js';
import heapSpacesSizeAndUsed from 'prom-client/lib/metrics/heapSpacesSizeAndUsed.js';
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap.js';
import processCpuTotal from 'prom-client/lib/metrics/processCpuTotal.js';
import processHandles from 'prom-client/lib/metrics/processHandles.js';
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors.js';
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors.js';
import processRequests from 'prom-client/lib/metrics/processRequests.js';
import processResources from 'prom-client/lib/metrics/processResources.js';
import processStartTime from 'prom-client/lib/metrics/processStartTime.js';

const PROCESS = [processCpuTotal, processStartTime, osMemoryHeap, processOpenFileDescriptors, processMaxFileDescriptors];
const RUNTIME = [eventLoopLag, processResources, processHandles, processRequests, heapSizeAndUsed, heapSpacesSizeAndUsed, gc];
const RUNTIME_PREFIX = 'logship_';
const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_resources_total', 'nodejs_active_handles_total', 'nodejs_active_requests_total'];

export function registerRuntimeMetrics(registry: Registry): void {
  for (const register of PROCESS) register(registry, {});
  // The event-loop delay histogram samples on a timer of this period: prom-client's default (10 ms) woke an idle
  // agent 100 times a second, two thirds of its idle CPU (0.12 -> 0.04 CPU-s per 30 s). Stalls of a second or more are still seen.
  for (const register of RUNTIME) register(registry, { prefix: RUNTIME_PREFIX, eventLoopMonitoringPrecision: 1000 });
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(RUNTIME_PREFIX + name);
}
