/**
 * Container logs (`container: cri | docker | auto`): unwrap the runtime's
 * line format, join partial lines, and read Kubernetes metadata from the
 * kubelet's file names.
 *
 *   const sink = new ContainerLineSink(encoder, { mode: 'auto', maxBytes: input.max_line_bytes });
 *   const meta = k8sMetadataFromPath(path); // { namespace, pod, container, ... } | undefined
 */
export { ContainerLineSink } from './container-sink.ts';
export type { ContainerEvents, ContainerSinkOptions } from './container-sink.ts';
export { k8sMetadataFromPath } from './k8s-path.ts';
export type { K8sMetadata } from './k8s-path.ts';
export { detectFormat, looksDocker, unwrap, unwrapCri, unwrapDocker, unwrapText, Unwrapped } from './unwrap.ts';
export type { ContainerFormat, ContainerMode, StreamName, UnwrappedText } from './unwrap.ts';
