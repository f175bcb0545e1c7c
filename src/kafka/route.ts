/**
 * Where the oldest batches waiting for delivery go next, and whether to
 * wait first: decided here, acted on by Delivery. Pure, so every case is
 * a table test (test/kafka/route.test.ts).
 */

export type Route = 'kafka' | 'spool';

export interface RouteState {
  /** A spool is attached. */
  spool: boolean;
  /** The spool holds entries not acked yet: older than any batch waiting. */
  spoolHolds: boolean;
  /** spool.keep_order: new batches queue behind what the spool holds. */
  keepOrder: boolean;
  /** The last request to Kafka (new batches or replay) failed. */
  kafkaFailing: boolean;
  /** The last try of these batches was a spool append that was refused (full disk, max_bytes, I/O error). */
  spoolRefused: boolean;
}

/**
 * - No spool: Kafka, until it takes them (reading pauses meanwhile).
 * - The spool holds older entries and order is kept: the spool, behind
 *   them (replay sends them in order).
 * - Kafka failing: the spool, unless it has just refused these batches;
 *   then Kafka, which takes them if it is back. The spool holds nothing
 *   older then (or order need not be kept), so a disk full for another
 *   reason never stalls delivery while Kafka works.
 * - Otherwise Kafka.
 */
export function routeFor(s: RouteState): Route {
  if (!s.spool) return 'kafka';
  if (s.spoolHolds && s.keepOrder) return 'spool';
  if (s.kafkaFailing && !s.spoolRefused) return 'spool';
  return 'kafka';
}

/**
 * After a failed try on `failed`, whether to back off before trying on
 * `next`. Only a Kafka failure whose batches go to the spool next goes on
 * at once (the spool exists for that); every other failure waits, so a
 * spool that refuses and a Kafka that fails alternate at the backoff's
 * pace, never in a tight loop.
 */
export function waitBefore(failed: Route, next: Route): boolean {
  return !(failed === 'kafka' && next === 'spool');
}
