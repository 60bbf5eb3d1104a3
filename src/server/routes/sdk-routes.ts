import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Configuration documents the browser SDKs fetch before sending anything. Pointing analytics.js's
 * `cdnURL` (or RudderStack's `configUrl`) at Refinery makes them work with no other change: the answer
 * enables only the first-party destination, which sends to the `apiHost` the page configured.
 */
export function registerSdkRoutes(app: FastifyInstance): void {
  app.get(
    '/v1/projects/:writeKey/settings',
    { schema: { tags: ['meta'], summary: 'Settings document for analytics.js (Segment browser SDK)' } },
    async (request) => ({
      // analytics.js sends `apiKey` as the body's writeKey and as the Basic auth user of every event.
      integrations: {
        'Segment.io': {
          apiKey: (request.params as { writeKey: string }).writeKey,
          unbundledIntegrations: [],
          addBundledMetadata: true,
        },
      },
      plan: {
        track: { __default: { enabled: true, integrations: {} } },
        identify: { __default: { enabled: true } },
      },
      edgeFunction: {},
      analyticsNextEnabled: true,
      middlewareSettings: {},
      enabledMiddleware: {},
      metrics: { sampleRate: 0 },
      legacyVideoPluginsEnabled: false,
      remotePlugins: [],
    }),
  );
  // The SDK asks for `/sourceConfig/?writeKey=…` (trailing slash) unless its configUrl ends in /sourceConfig.
  app.get(
    '/sourceConfig',
    { schema: { tags: ['meta'], summary: 'Source configuration for the RudderStack JavaScript SDK' } },
    sourceConfig,
  );
  app.get('/sourceConfig/', { schema: { hide: true } }, sourceConfig);
}

/** RudderStack's source config with no destinations: the SDK then sends only to its dataPlaneUrl. */
async function sourceConfig(request: FastifyRequest) {
  const writeKey = String((request.query as { writeKey?: string }).writeKey ?? '');
  return {
    isHosted: false,
    source: {
      config: { statsCollection: { errorReports: { enabled: false }, metrics: { enabled: false } } },
      id: 'refinery',
      name: 'Refinery',
      writeKey,
      enabled: true,
      workspaceId: 'refinery',
      destinations: [],
    },
  };
}
