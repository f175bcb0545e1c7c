import { fileURLToPath } from 'node:url';

/** A path inside the repository, from its root. */
export const repoPath = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));
