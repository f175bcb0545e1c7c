import type { KafkaErrorKind } from '../kafka/describe-error.ts';

/** Failures no retry fixes: someone must change a secret, a certificate, an ACL, a topic or a size limit. */
const NEEDS_A_FIX: ReadonlySet<KafkaErrorKind> = new Set(['auth', 'tls', 'authorization', 'unknown_topic', 'invalid_topic', 'too_large']);

/** What /readyz says ready means, in its body. */
export const READY_MEANS =
  'ready = the agent runs, and the output (Kafka, RabbitMQ, Redis) takes batches, or fails only in a way retries fix (unreachable, timeout) while the spool takes the batches; ' +
  'not ready while stopping, on a failure no retry fixes (auth, tls, authorization, unknown_topic, invalid_topic, too_large), or when nothing takes batches';

export interface ReadinessState {
  /** The pipeline's state. */
  state: 'created' | 'running' | 'stopping';
  /** How the output names itself in the detail (OUTPUT_NAMES); Kafka when absent. */
  output?: string;
  /** How the output fails now (the last request or the first contact), undefined while it works. */
  failing: { kind: KafkaErrorKind; message: string } | undefined;
  /** A spool takes batches now. */
  spoolAccepting: boolean;
}

export interface Readiness {
  ready: boolean;
  /** Why (not) ready, one line. */
  detail: string;
}

/** Whether the agent is ready (see READY_MEANS), and why. */
export function readiness({ state, output = 'Kafka', failing, spoolAccepting }: ReadinessState): Readiness {
  if (state !== 'running') return { ready: false, detail: state };
  if (failing === undefined) return { ready: true, detail: `${output} takes batches` };
  if (NEEDS_A_FIX.has(failing.kind)) return { ready: false, detail: `${failing.message} (${failing.kind}: retries will not fix it)` };
  if (!spoolAccepting) return { ready: false, detail: `${output} does not accept batches and no spool takes them (${failing.kind}: ${failing.message})` };
  return { ready: true, detail: `${output} fails (${failing.kind}: ${failing.message}); the spool takes batches meanwhile` };
}
