// Types for deploy/helm-check/validate.mjs (plain JS so deploy/helm-check.sh runs without a TypeScript step).
export const REQUIRED_KINDS: string[];
export function parseManifests(
  text: string,
  source: string,
): Array<Record<string, any> & { apiVersion: string; kind: string; metadata: { name: string } }>;
export function validateRendered(outDir: string): Promise<string[]>;
