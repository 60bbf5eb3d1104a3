/** The only place that reads `process.env`; everything else receives these values. */
export interface Environment {
  /** Workspace folder from `REFINERY_DIR`, used when `--dir` is not given. */
  readonly workspaceDir: string | undefined;
  /** True when output should avoid progress bars and colours (CI, pipes). */
  readonly ci: boolean;
  /** Store URL from `REFINERY_STORE`, used when `--store` is not given. */
  readonly storeUrl: string | undefined;
  readonly logLevel: string;
  /**
   * The vault's master key from `REFINERY_MASTER_KEY` (base64 of 32 bytes), so it can live outside the data folder;
   * absent, the workspace's own `data/secrets/master.key` is used (created on first start).
   */
  readonly masterKey: string | undefined;
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  return Object.freeze({
    workspaceDir: env.REFINERY_DIR || undefined,
    ci: Boolean(env.CI) && env.CI !== 'false',
    storeUrl: env.REFINERY_STORE || undefined,
    logLevel: env.REFINERY_LOG_LEVEL || 'warn',
    masterKey: env.REFINERY_MASTER_KEY || undefined,
  });
}
