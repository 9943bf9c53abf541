// Types for deploy/check-config.mjs (plain JS so the deploy scripts run without a TypeScript step).
export function checkConfigFile(file: string, opts?: { storeUrl?: string }): Promise<{ ok: boolean; output: string }>;
