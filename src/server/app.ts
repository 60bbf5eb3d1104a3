import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import type { KeyRing } from '../access/api-keys.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Collector } from '../collect/collector.js';
import type { IngestMeter } from '../collect/ingest-meter.js';
import type { Loader } from '../collect/loader.js';
import type { TailBuffer } from '../collect/tail-buffer.js';
import type { WriteAheadLog } from '../collect/wal/write-ahead-log.js';
import type { WorkspaceConfig } from '../config/workspace-config.js';
import type { LiveContracts } from '../contracts/live-contracts.js';
import type { IdentityResolution } from '../identity/identity-resolution.js';
import type { WorkspacePrivacy } from '../privacy/workspace-privacy.js';
import type { Store } from '../store/store.js';
import { declareScopeAccess, registerAuthorisation } from './authorise.js';
import { registerJsonBodyParser } from './body-parser.js';
import { capConnectionsPerClient, timeoutOptions } from './connection-limits.js';
import { registerCorsPolicy } from './cors-policy.js';
import { answerFrameworkError, MAX_PATH_PARAM_CHARS, registerErrorHandler } from './error-handler.js';
import { openApiInfo } from './openapi.js';
import { registerPathParamChecks } from './path-params.js';
import { registerAdminRoutes } from './routes/admin-routes.js';
import { registerAuditRoutes } from './routes/audit-routes.js';
import { registerCollectRoutes } from './routes/collect-routes.js';
import { registerConsentRoutes } from './routes/consent-routes.js';
import { registerContractRoutes } from './routes/contract-routes.js';
import { registerImportRoutes } from './routes/import-routes.js';
import { privacyRequestsOf, registerPrivacyRoutes } from './routes/privacy-routes.js';
import { registerProfileRoutes } from './routes/profile-routes.js';
import { registerSdkRoutes } from './routes/sdk-routes.js';
import { registerWalRoutes } from './routes/wal-routes.js';
import { registerSecurityHeaders } from './security-headers.js';

export interface AppDeps {
  readonly config: WorkspaceConfig;
  readonly store: Store;
  readonly keys: KeyRing;
  readonly collector: Collector;
  readonly loader: Loader;
  readonly wal: WriteAheadLog;
  readonly tail: TailBuffer;
  readonly meter: IngestMeter;
  readonly uploadsDir: string;
  /** The workspace's data folder: files the store may read (quarantine decisions are written there). */
  readonly dataDir: string;
  readonly contracts: LiveContracts;
  /** Where accesses to personal data and key changes are recorded; absent in tests that do not need it. */
  readonly audit?: AuditLog;
  /** The vault and suppression list, to reveal personal fields for roles allowed to read them and to erase. */
  readonly privacy?: WorkspacePrivacy;
  /** The identity graph the loader keeps up to date; erasures make it re-read the store. */
  readonly identity?: IdentityResolution;
  readonly logger?: boolean;
}

const DASHBOARD_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Builds the HTTP app without listening, so tests can `inject()` requests and servers can `listen()`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // Without --log, warnings and errors still reach stderr: a 5xx always leaves its cause in the log.
    logger: deps.logger ? true : { level: 'warn', stream: process.stderr },
    bodyLimit: deps.config.limits.maxBatchBytes,
    trustProxy: deps.config.server.trustProxy,
    routerOptions: { maxParamLength: MAX_PATH_PARAM_CHARS },
    frameworkErrors: answerFrameworkError,
    ...timeoutOptions(deps.config.server),
  });
  capConnectionsPerClient(app.server, deps.config.server, app.log);
  // Bodies are checked by Refinery's own validators so every error carries a stable code and a field path;
  // route schemas exist to document the API, not to validate or reshape it.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerJsonBodyParser(app, deps.config.limits.maxBatchBytes);
  registerErrorHandler(app, deps.config.limits);
  registerSecurityHeaders(app);

  // Open to other origins only where browsers collect (the SDK routes); closed on every route that takes an API key.
  await registerCorsPolicy(app);
  await app.register(swagger, {
    openapi: openApiInfo(),
    hideUntagged: true,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  registerPathParamChecks(app);
  // After CORS, so refusals carry its headers; before every /v1/ route, so each one's permission is checked.
  registerAuthorisation(app, deps.keys);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/healthz',
    { schema: { tags: ['meta'], summary: 'Liveness: the server answers and its store is open' } },
    async () => ({
      status: 'ok',
      store: deps.store.engine,
    }),
  );

  // Each route file registers in a scope of its own, loaded in this order (the OpenAPI document's order).
  app.register(async (scope) => {
    // Collection routes authenticate their write key themselves (analytics.js may send it in the body).
    declareScopeAccess(scope, 'collect');
    registerCollectRoutes(scope, deps);
  });
  app.register(async (scope) => {
    declareScopeAccess(scope, 'public');
    registerSdkRoutes(scope);
  });
  app.register(async (scope) => registerAdminRoutes(scope, deps));
  app.register(async (scope) => registerImportRoutes(scope, deps));
  app.register(async (scope) => registerContractRoutes(scope, deps));
  app.register(async (scope) => registerAuditRoutes(scope, deps));
  app.register(async (scope) => registerWalRoutes(scope, deps));
  app.register(async (scope) =>
    registerProfileRoutes(scope, {
      store: deps.store,
      personalFields: deps.privacy?.fields ?? deps.config.privacy.personalFields,
      consentDefaults: deps.config.consent.default,
      ...(deps.audit ? { audit: deps.audit } : {}),
      ...(deps.privacy ? { vault: deps.privacy.vault, identifiers: deps.privacy.identifiers } : {}),
    }),
  );

  app.register(async (scope) =>
    registerConsentRoutes(scope, {
      store: deps.store,
      wal: deps.wal,
      defaults: deps.config.consent.default,
      ...(deps.audit ? { audit: deps.audit } : {}),
      ...(deps.privacy ? { identifiers: deps.privacy.identifiers } : {}),
    }),
  );
  app.register(async (scope) =>
    registerPrivacyRoutes(scope, {
      requests: privacyRequestsOf(deps),
      ...(deps.audit ? { audit: deps.audit } : {}),
    }),
  );

  if (existsSync(DASHBOARD_DIR)) {
    await app.register(fastifyStatic, {
      root: DASHBOARD_DIR,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
    });
    // Client-side routes of the dashboard fall back to its index page.
    app.get('/app/*', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
  }
  return app;
}
