/** The OpenAPI header for the REST API; paths come from the route schemas. */
import type { SwaggerOptions } from '@fastify/swagger';

export function openApiInfo(): NonNullable<Extract<SwaggerOptions, { openapi?: unknown }>['openapi']> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Refinery API',
      version: '0.1.0',
      description:
        'Collect Segment-compatible events, import files, manage keys and query the store. Errors are JSON `{code, message, field?}`; codes are listed in docs/errors.md.',
    },
    tags: [
      { name: 'collect', description: 'Segment-compatible collection (write key)' },
      { name: 'admin', description: 'Workspace administration and data access (admin key)' },
      { name: 'meta', description: 'Health and SDK settings' },
    ],
    components: {
      securitySchemes: {
        writeKey: {
          type: 'http',
          scheme: 'basic',
          description: 'The source write key as the Basic user, empty password.',
        },
        adminKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An admin key from `refinery keys create --kind admin`.',
        },
      },
    },
  };
}
