/** The only place that reads `process.env`; everything else receives these values. */
export interface Environment {
  /** Workspace folder from `REFINERY_DIR`, used when `--dir` is not given. */
  readonly workspaceDir: string | undefined;
  /** True when output should avoid progress bars and colours (CI, pipes). */
  readonly ci: boolean;
  /** Store URL from `REFINERY_STORE`, used when `--store` is not given. */
  readonly storeUrl: string | undefined;
  readonly logLevel: string;
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  return Object.freeze({
    workspaceDir: env.REFINERY_DIR || undefined,
    ci: Boolean(env.CI) && env.CI !== 'false',
    storeUrl: env.REFINERY_STORE || undefined,
    logLevel: env.REFINERY_LOG_LEVEL || 'warn',
  });
}
