/**
 * Kubernetes metadata from a container log's path, as the kubelet names
 * the files:
 *
 * - `/var/log/containers/<pod>_<namespace>_<container>-<64 hex id>.log`
 *   (symlinks the kubelet keeps, one per container instance);
 * - `/var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<restart count>.log`
 *   (the files they point to; no container id in this name).
 *
 * Only the last path segments are looked at, so a host directory mounted
 * elsewhere (`/host/var/log/containers/…`) works too. Names are checked
 * against Kubernetes' own rules (lowercase; pods may hold `-` and `.`,
 * namespaces and containers `-`; none holds `_`), so that the split at `_`
 * is unambiguous and unrelated files are not given made-up metadata.
 */

export interface K8sMetadata {
  namespace: string;
  pod: string;
  container: string;
  /** From `/var/log/containers` names only. */
  container_id?: string;
  /** From `/var/log/pods` paths only. */
  pod_uid?: string;
}

const POD = '[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?';
const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';

const CONTAINERS_NAME = new RegExp(`(?:^|/)(${POD})_(${LABEL})_(${LABEL})-([0-9a-f]{64})\\.log$`);
const PODS_PATH = new RegExp(`(?:^|/)(${LABEL})_(${POD})_([0-9a-f-]+)/(${LABEL})/[0-9]+\\.log$`);

/** Namespace, pod and container from a kubelet log path; undefined for any other path. */
export function k8sMetadataFromPath(path: string): K8sMetadata | undefined {
  let m = CONTAINERS_NAME.exec(path);
  if (m) return { namespace: m[2]!, pod: m[1]!, container: m[3]!, container_id: m[4]! };
  m = PODS_PATH.exec(path);
  if (m) return { namespace: m[1]!, pod: m[2]!, container: m[4]!, pod_uid: m[3]! };
  return undefined;
}
